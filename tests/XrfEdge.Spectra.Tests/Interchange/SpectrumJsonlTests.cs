using System.Globalization;
using System.Text;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Spectra.Tests.Interchange;

public sealed class SpectrumJsonlTests
{
    // 64 channels is the format's minimum (spectra-jsonl.md); small keeps the hand-written lines readable.
    private const int Channels = 64;

    private static string Counts(int n = Channels, string? replaceFirst = null)
    {
        var values = Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (replaceFirst is not null && n > 0)
        {
            values[5] = replaceFirst;
        }

        return "[" + string.Join(',', values) + "]";
    }

    private const string Calibration = "{\"offset_kev\":-0.012,\"gain_kev_per_channel\":0.0149}";

    private static string ValidLine(string id = "s-1") =>
        $"{{\"id\":\"{id}\",\"counts\":{Counts()},\"calibration\":{Calibration}}}";

    private static List<SpectrumReadResult> ReadAll(string text) =>
        SpectrumJsonl.Read(new StringReader(text), "test.jsonl").ToList();

    private static LabelledSpectrum FullSpectrum()
    {
        // Counts span small and large values (up to the 24-bit Amptek channel maximum 16 777 215) to catch formatting loss.
        var counts = Enumerable.Range(0, 128).Select(i => (long)(i * 131_071 % 16_777_216)).ToArray();
        var raw = new RawSpectrum
        {
            Id = "h-000001",
            Counts = counts,
            // Offset and gain with many digits check round-trip number formatting; the quadratic term is typical of an SDD.
            Calibration = new EnergyCalibration(-0.0123456789012345, 0.0149876543210987, 1.234567e-7),
            LiveTime = TimeSpan.FromSeconds(10.25),
            RealTime = TimeSpan.FromSeconds(10.5),
            Excitation = new Excitation("Rh", 40, 20.5),
            Metadata = new Dictionary<string, string> { ["profile"] = "handheld-sdd", ["temperature"] = "21 °C" },
        };
        return new LabelledSpectrum(raw)
        {
            Elements = ["Fe", "Cu", "Pb"],
            Lines = ["Fe-KL3", "Pb-L3M5"],
            IgnoreElements = ["Rh", "Ar"],
            ElementsInSample = ["Fe", "Cu", "Pb", "C"],
        };
    }

    [Fact]
    public void Write_ThenRead_RoundTripsEveryField()
    {
        var original = FullSpectrum();
        var text = SpectrumJsonl.ToJsonLine(original);

        var result = Assert.Single(ReadAll(text + "\n"));

        Assert.True(result.IsSuccess, result.Error);
        var read = result.Spectrum!;
        Assert.Equal(original.Spectrum.Id, read.Spectrum.Id);
        Assert.Equal(original.Spectrum.Counts, read.Spectrum.Counts);
        Assert.Equal(original.Spectrum.Calibration, read.Spectrum.Calibration);
        Assert.Equal(original.Spectrum.LiveTime, read.Spectrum.LiveTime);
        Assert.Equal(original.Spectrum.RealTime, read.Spectrum.RealTime);
        Assert.Equal(original.Spectrum.Excitation, read.Spectrum.Excitation);
        Assert.Equal(original.Elements, read.Elements);
        Assert.Equal(original.Lines, read.Lines);
        Assert.Equal(original.IgnoreElements, read.IgnoreElements);
        Assert.Equal(original.ElementsInSample, read.ElementsInSample);
        Assert.Equal("handheld-sdd", read.Spectrum.Metadata["profile"]);
        Assert.Equal("21 °C", read.Spectrum.Metadata["temperature"]);
        Assert.Equal("test.jsonl", read.Spectrum.Metadata["source"]);
    }

    [Fact]
    public void Write_ReadThenWriteAgain_GivesIdenticalBytes()
    {
        var first = SpectrumJsonl.ToJsonLine(FullSpectrum());
        var again = SpectrumJsonl.ToJsonLine(ReadAll(first).Single().Spectrum!);

        Assert.Equal(first, again);
    }

    [Fact]
    public void Write_UnderAnotherCulture_UsesInvariantNumbers()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // A German-style decimal comma (built by hand: InvariantGlobalization has no de-DE data).
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            CultureInfo.CurrentCulture = comma;
            var line = SpectrumJsonl.ToJsonLine(FullSpectrum());
            Assert.Contains("\"gain_kev_per_channel\":0.0149876543210987", line, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Write_StreamOverload_WritesOneNewlineTerminatedUtf8Line()
    {
        using var stream = new MemoryStream();
        SpectrumJsonl.Write(stream, FullSpectrum());
        SpectrumJsonl.Write(stream, FullSpectrum() with { Spectrum = FullSpectrum().Spectrum with { Id = "h-000002" } });

        var text = Encoding.UTF8.GetString(stream.ToArray());
        var results = ReadAll(text);

        Assert.Equal(2, text.Count(c => c == '\n'));
        Assert.All(results, r => Assert.True(r.IsSuccess, r.Error));
        Assert.Equal(["h-000001", "h-000002"], results.Select(r => r.Id));
    }

    [Fact]
    public void WriteFile_ThenReadFile_ReturnsAllSpectra()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xrfedge-{Guid.NewGuid():N}.jsonl");
        try
        {
            var spectra = Enumerable.Range(0, 3)
                .Select(i => FullSpectrum() with { Spectrum = FullSpectrum().Spectrum with { Id = $"s{i}" } });
            Assert.Equal(3, SpectrumJsonl.WriteFile(path, spectra));

            var results = SpectrumJsonl.ReadFile(path).ToList();

            Assert.Equal(["s0", "s1", "s2"], results.Select(r => r.Spectrum!.Spectrum.Id));
            Assert.Equal([1, 2, 3], results.Select(r => r.LineNumber));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReadFile_MissingFile_YieldsOneErrorNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xrfedge-missing-{Guid.NewGuid():N}.jsonl");

        var result = Assert.Single(SpectrumJsonl.ReadFile(path));

        Assert.False(result.IsSuccess);
        Assert.StartsWith(path, result.Error, StringComparison.Ordinal);
        Assert.Contains("cannot open", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MinimalLine_HasNoLabelsAndNoTimes()
    {
        var result = Assert.Single(ReadAll(ValidLine()));

        Assert.True(result.IsSuccess, result.Error);
        Assert.False(result.Spectrum!.HasLabels);
        Assert.Null(result.Spectrum.Spectrum.LiveTime);
        Assert.Null(result.Spectrum.Spectrum.Excitation);
        Assert.Equal(0, result.Spectrum.Spectrum.Calibration.QuadraticKeVPerChannel2);
        Assert.Equal(Enumerable.Range(0, Channels).Sum(), result.Spectrum.Spectrum.TotalCounts);
    }

    [Fact]
    public void Read_BadLineBetweenGoodOnes_ReportsItAndKeepsReading()
    {
        var text = string.Join('\n', ValidLine("a"), "{not json", "", ValidLine("b"), "\r");

        var results = ReadAll(text);

        Assert.Equal(3, results.Count);
        Assert.True(results[0].IsSuccess);
        Assert.False(results[1].IsSuccess);
        Assert.Equal(2, results[1].LineNumber);
        Assert.StartsWith("test.jsonl line 2: not valid JSON", results[1].Error, StringComparison.Ordinal);
        Assert.True(results[2].IsSuccess);
        Assert.Equal(4, results[2].LineNumber);
    }

    [Fact]
    public void Read_CrLfLineEndings_Accepted()
    {
        var results = ReadAll(ValidLine("a") + "\r\n" + ValidLine("b") + "\r\n");

        Assert.Equal(2, results.Count(r => r.IsSuccess));
    }

    [Fact]
    public void Read_UnpairedSurrogateInText_ErrorNotException()
    {
        var line = ValidLine().Replace("\"s-1\"", "\"s-\ud800\"", StringComparison.Ordinal);

        var result = Assert.Single(ReadAll(line));

        Assert.Contains("unpaired UTF-16 surrogate", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DuplicateId_SecondOneIsAnError()
    {
        var results = ReadAll(ValidLine("same") + "\n" + ValidLine("same"));

        Assert.True(results[0].IsSuccess);
        Assert.False(results[1].IsSuccess);
        Assert.Contains("already used", results[1].Error, StringComparison.Ordinal);
        Assert.Equal("same", results[1].Id);
    }

    [Fact]
    public void Read_IntegralFloatCounts_Accepted()
    {
        // NumPy float arrays serialise 12 as 12.0; 1e3 is JSON's exponent form of 1000.
        var line = $"{{\"id\":\"f\",\"counts\":{Counts(replaceFirst: "1e3").Replace("[0,", "[12.0,", StringComparison.Ordinal)},\"calibration\":{Calibration}}}";

        var result = Assert.Single(ReadAll(line));

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(12, result.Spectrum!.Spectrum.Counts[0]);
        Assert.Equal(1000, result.Spectrum.Spectrum.Counts[5]);
    }

    public static TheoryData<string, string> BadLines => new()
    {
        { "[1,2,3]", "expected a JSON object, found an array" },
        { $"{{\"counts\":{Counts()},\"calibration\":{Calibration}}}", "missing field \"id\"" },
        { $"{{\"id\":\"\",\"counts\":{Counts()},\"calibration\":{Calibration}}}", "field \"id\" must be a non-empty string" },
        { $"{{\"id\":7,\"counts\":{Counts()},\"calibration\":{Calibration}}}", "field \"id\" must be a non-empty string" },
        { $"{{\"id\":\"x\",\"calibration\":{Calibration}}}", "missing field \"counts\"" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()}}}", "missing field \"calibration\"" },
        { $"{{\"id\":\"x\",\"counts\":\"1,2\",\"calibration\":{Calibration}}}", "field \"counts\" must be an array of non-negative integers, found a string" },
        // 63 and 16385 are one outside the format's 64–16384 channel range.
        { $"{{\"id\":\"x\",\"counts\":{Counts(63)},\"calibration\":{Calibration}}}", "counts has 63 channels; 64 to 16384 are accepted" },
        { $"{{\"id\":\"x\",\"counts\":{Counts(16385)},\"calibration\":{Calibration}}}", "counts has 16385 channels; 64 to 16384 are accepted" },
        { $"{{\"id\":\"x\",\"counts\":[],\"calibration\":{Calibration}}}", "counts has 0 channels" },
        { $"{{\"id\":\"x\",\"counts\":{Counts(replaceFirst: "-3")},\"calibration\":{Calibration}}}", "counts[5] is -3; counts must be non-negative integers" },
        { $"{{\"id\":\"x\",\"counts\":{Counts(replaceFirst: "2.5")},\"calibration\":{Calibration}}}", "counts[5] is 2.5, not an integer" },
        { $"{{\"id\":\"x\",\"counts\":{Counts(replaceFirst: "\"7\"")},\"calibration\":{Calibration}}}", "counts[5] is a string, not a number" },
        { $"{{\"id\":\"x\",\"counts\":{Counts(replaceFirst: "null")},\"calibration\":{Calibration}}}", "counts[5] is null, not a number" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":[1,2]}}", "field \"calibration\" must be an object" },
        // 1e400 overflows a double; "\ud800" is an unpaired surrogate escape (both found by probing the parser).
        { $"{{\"id\":\"x\",\"counts\":{Counts(replaceFirst: "1e400")},\"calibration\":{Calibration}}}", "counts[5] is 1e400, not a finite number" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":1e400,\"gain_kev_per_channel\":0.01}}}}", "field \"calibration.offset_kev\" is not a finite number" },
        { $"{{\"id\":\"\\ud800\",\"counts\":{Counts()},\"calibration\":{Calibration}}}", "a string holds an invalid \\u escape" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"gain_kev_per_channel\":0.01}}}}", "missing field \"calibration.offset_kev\"" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":0}}}}", "missing field \"calibration.gain_kev_per_channel\"" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":\"0\",\"gain_kev_per_channel\":0.01}}}}", "field \"calibration.offset_kev\" must be a number, found a string" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":0}}}}", "bad calibration: gain must be positive" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":-0.01}}}}", "bad calibration: gain must be positive" },
        // 5 keV/channel and 1000 keV offset are beyond EnergyCalibration's plausibility limits (2 keV/channel, ±50 keV).
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":5}}}}", "bad calibration: gain 5 keV/channel is above the plausible maximum" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":1000,\"gain_kev_per_channel\":0.01}}}}", "bad calibration: offset 1000 keV is outside" },
        // q = −0.001 makes dE/dc = 0.01 − 0.002·c negative from channel 5 on: not monotonic over 64 channels.
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":0.01,\"quadratic_kev_per_channel2\":-0.001}}}}", "bad calibration: calibration is not monotonic over 64 channels" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"live_time_s\":-1}}", "field \"live_time_s\" is -1; a time must be a non-negative number of seconds" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"real_time_s\":\"10\"}}", "field \"real_time_s\" must be a number, found a string" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"excitation\":{{\"anode\":\"rhodium\"}}}}", "field \"excitation.anode\" must be an element symbol" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"excitation\":{{\"anode\":\"Rh\",\"kv\":0}}}}", "field \"excitation.kv\": tube voltage 0 kV is outside 1–200 kV" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"elements\":\"Fe\"}}", "field \"elements\" must be an array of strings, found a string" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"elements\":[\"Fe\",\"iron\"]}}", "field \"elements\" holds \"iron\", which is not an element symbol" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"ignore_elements\":[1]}}", "field \"ignore_elements\" must be an array of strings, holds a number" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"lines\":[\"Fe Ka1\"]}}", "field \"lines\" holds \"Fe Ka1\", which is not a line name" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"metadata\":[1]}}", "field \"metadata\" must be an object of strings" },
        // A key given twice: the reader kept the last one silently (ground truth Cu instead of Fe, 70 channels instead of
        // 64, offset 1 instead of 0), so a hand-merged or corrupt line scored against a truth nobody wrote.
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{Calibration},\"elements\":[\"Fe\"],\"elements\":[\"Cu\"]}}", "Duplicate property 'elements'" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"counts\":{Counts(70)},\"calibration\":{Calibration}}}", "Duplicate property 'counts'" },
        { $"{{\"id\":\"x\",\"counts\":{Counts()},\"calibration\":{{\"offset_kev\":0,\"offset_kev\":1,\"gain_kev_per_channel\":0.01}}}}", "Duplicate property 'offset_kev'" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void Read_BadLine_ErrorNamesFileLineAndProblem(string line, string expectedProblem)
    {
        // The bad line is line 2, between two good lines: the error must say so and the good lines survive.
        var results = ReadAll(ValidLine("before") + "\n" + line + "\n" + ValidLine("after"));

        Assert.Equal(3, results.Count);
        Assert.True(results[0].IsSuccess);
        Assert.True(results[2].IsSuccess);
        var bad = results[1];
        Assert.False(bad.IsSuccess);
        Assert.StartsWith("test.jsonl line 2: ", bad.Error, StringComparison.Ordinal);
        Assert.Contains(expectedProblem, bad.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_LiveTimeOf43Milliseconds_RoundTripsToTheTick()
    {
        // 0.043 is stored as 0.0429999…; TimeSpan.FromSeconds would truncate it to 429 999 ticks (found by a property test).
        var spectrum = FullSpectrum() with { Spectrum = FullSpectrum().Spectrum with { LiveTime = TimeSpan.FromMilliseconds(43) } };

        var read = ReadAll(SpectrumJsonl.ToJsonLine(spectrum)).Single().Spectrum!;

        Assert.Equal(TimeSpan.FromMilliseconds(43), read.Spectrum.LiveTime);
        Assert.Equal(430_000, SpectrumJsonl.FromSecondsRounded(0.043).Ticks);
    }

    [Fact]
    public void Write_NegativeCount_Throws()
    {
        var spectrum = FullSpectrum();
        spectrum.Spectrum.Counts[3] = -1;

        var error = Assert.Throws<ArgumentException>(() => SpectrumJsonl.ToJsonLine(spectrum));

        Assert.Contains("counts[3] is -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_TooFewChannels_Throws()
    {
        // 10 channels: below the format's 64-channel minimum, so the file would not read back.
        var spectrum = new LabelledSpectrum(FullSpectrum().Spectrum with { Counts = new long[10] });

        var error = Assert.Throws<ArgumentException>(() => SpectrumJsonl.ToJsonLine(spectrum));

        Assert.Contains("has 10 channels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ReaderAddedMetadata_IsNotCopied()
    {
        var read = ReadAll(ValidLine()).Single().Spectrum!;

        var line = SpectrumJsonl.ToJsonLine(read);

        Assert.DoesNotContain("source", line, StringComparison.Ordinal);
    }

    // Each spectrum is refused by the reader; the writer wrote it anyway (exit 0 from synth --format jsonl with a
    // profile of negative tube current, for one), leaving a file whose every line is an error.
    public static TheoryData<string, string> Unreadable => new()
    {
        // 200 kV is Excitation.MaxTubeVoltageKilovolts; 500 is above it.
        { "kv", "tube voltage 500 kV" },
        { "ua", "tube current -3" },
        { "anode", "anode \"rhodium\"" },
        // SpectrumJsonl.MaxSeconds is half of TimeSpan.MaxValue.
        { "live", "live time" },
        { "elements", "elements holds \"iron\"" },
        { "ignore", "ignore_elements holds \"argon\"" },
        { "lines", "lines holds \"Fe Ka1\"" },
    };

    [Theory]
    [MemberData(nameof(Unreadable))]
    public void Write_SpectrumTheReaderRefuses_ThrowsNamingTheProblem(string field, string expected)
    {
        var full = FullSpectrum();
        var raw = full.Spectrum;
        var spectrum = field switch
        {
            "kv" => full with { Spectrum = raw with { Excitation = new Excitation("Rh", 500, 20) } },
            "ua" => full with { Spectrum = raw with { Excitation = new Excitation("Rh", 40, -3) } },
            "anode" => full with { Spectrum = raw with { Excitation = new Excitation("rhodium", 40, 20) } },
            "live" => full with { Spectrum = raw with { LiveTime = TimeSpan.MaxValue } },
            "elements" => full with { Elements = ["Fe", "iron"] },
            "ignore" => full with { IgnoreElements = ["argon"] },
            "lines" => full with { Lines = ["Fe Ka1"] },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        var error = Assert.Throws<ArgumentException>(() => SpectrumJsonl.ToJsonLine(spectrum));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(raw.Id, error.Message, StringComparison.Ordinal);
    }
}

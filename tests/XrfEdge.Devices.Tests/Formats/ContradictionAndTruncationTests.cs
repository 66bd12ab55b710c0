using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Second adversarial review of the readers (2026-11-24), as files from other vendors' software, hand edits and cut-short
/// USB copies produce them: a section or key given twice, comma decimals, a copy cut inside its last count, UTF-16 files
/// from Windows tools, and shapes that cost memory far beyond the file's size. Each must give the spectrum the file means
/// or one error naming the file, never a silently different spectrum. (A live time longer than the real time is not a
/// contradiction: the PIXL bulk sums in validation/spectra hold 13958 s live in 1601.55 s real.)
/// </summary>
public sealed class ContradictionAndTruncationTests
{
    // 256 channels: GAIN - 0 (256 << 0) in an Amptek header; the last count has four digits so a cut inside it changes it.
    private const int McaChannels = 256;

    private static string Counts(int n, string separator = "\n") =>
        string.Join(separator, Enumerable.Range(0, n).Select(c => c == n - 1 ? "1234" : (c % 13).ToString(CultureInfo.InvariantCulture)));

    private static string Mca(string header = "GAIN - 0\nLIVE_TIME - 29.5\nREAL_TIME - 30.0\n", string calibration = "<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n", string end = "<<END>>\n") =>
        "<<PMCA SPECTRUM>>\nTAG - live_data\n" + header + calibration + "<<DATA>>\n" + Counts(McaChannels) + "\n" + end;

    private static string Spe(string times = "$MEAS_TIM:\n29 30\n", string calibration = "$MCA_CAL:\n3\n0.1 0.05 0 keV\n", string tail = "") =>
        "$SPEC_ID:\nreview\n" + times + calibration + "$DATA:\n0 63\n" + Counts(64) + "\n" + tail;

    private static string Msa(string extraHeader = "", string end = "#ENDOFDATA   :\n") =>
        "#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n#NPOINTS     : 64\n#XUNITS      : keV\n#DATATYPE    : Y\n"
        + "#XPERCHAN    : 0.04\n#OFFSET      : 0\n#LIVETIME  -s: 29.5\n#REALTIME  -s: 30.0\n" + extraHeader + "#SPECTRUM    :\n" + Counts(64, ", ") + "\n" + end;

    private static SpectrumReadResult ReadOne(byte[] bytes, string source) =>
        Assert.Single(SpectrumFileReader.Read(new MemoryStream(bytes), source));

    private static SpectrumReadResult ReadOne(string text, string source) => ReadOne(Encoding.UTF8.GetBytes(text), source);

    private static SpectrumReadResult Fails(string text, string source, string problem)
    {
        var result = ReadOne(text, source);
        Assert.False(result.IsSuccess, $"expected an error containing \"{problem}\", read a spectrum");
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
        Assert.StartsWith(source, result.Error, StringComparison.Ordinal);
        return result;
    }

    private static LabelledSpectrum Reads(string text, string source)
    {
        var result = ReadOne(text, source);
        Assert.True(result.IsSuccess, result.Error);
        return result.Spectrum!;
    }

    [Fact]
    public void Mca_SecondCalibrationSection_RejectedInsteadOfMergingThePoints()
    {
        // The points of both sections went into one fit; with two distinct channels the first section won silently.
        var text = Mca(calibration: "<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n<<CALIBRATION>>\nLABEL - keV\n0 1\n255 20.2\n");

        var result = Fails(text, "two-cal.mca", "a second <<CALIBRATION>> section");

        Assert.Equal(10, result.LineNumber);
    }

    [Fact]
    public void Mca_OneChannelGivenTwoEnergies_Rejected()
    {
        // Two distinct channels made a line through the first point of each, so 255 → 11.0 keV was dropped unseen.
        var result = Fails(Mca(calibration: "<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n255 11.0\n"), "conflict.mca", "calibration points give channel 255 two energies, 10.2 and 11 keV");

        Assert.Equal(6, result.LineNumber);
    }

    [Fact]
    public void Mca_SamePointGivenTwice_Read() =>
        Assert.Equal(0.04, Reads(Mca(calibration: "<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n255 10.2\n"), "again.mca").Spectrum.Calibration.GainKeVPerChannel, 12);

    [Theory]
    [InlineData("LIVE_TIME - 3.0\n", "LIVE_TIME")]
    [InlineData("REAL_TIME - 300.0\n", "REAL_TIME")]
    [InlineData("GAIN - 1\n", "GAIN")]
    public void Mca_HeaderKeyTheReaderUsesGivenTwice_Rejected(string again, string key)
    {
        // The last value used to win: a hand-merged header read LIVE_TIME 3 s instead of 29.5 s.
        var result = Fails(Mca(header: "GAIN - 0\nLIVE_TIME - 29.5\nREAL_TIME - 30.0\n" + again), "twice.mca", $"{key} is given twice");

        Assert.Equal(6, result.LineNumber);
    }

    [Theory]
    [InlineData("GAIN - 0\nLIVE_TIME - 29,5\nREAL_TIME - 30.0\n", "LIVE_TIME \"29,5\" is not a non-negative number of seconds", 4)]
    [InlineData("GAIN - 0\nLIVE_TIME - 29.5\nREAL_TIME - -30\n", "REAL_TIME \"-30\" is not a non-negative number of seconds", 5)]
    public void Mca_UnreadableTime_ErrorNamesItsLine(string header, string problem, int line)
    {
        // The error used to name the file only ("a.mca: LIVE_TIME …"), though the line is known.
        var result = Fails(Mca(header: header), "time.mca", problem);

        Assert.Equal(line, result.LineNumber);
    }

    [Fact]
    public void Mca_McacGivenTwiceInTheConfiguration_Rejected() =>
        Fails(Mca() + "<<DP5 CONFIGURATION>>\nMCAC=256;\nMCAC=1024;\n<<DP5 CONFIGURATION END>>\n", "mcac.mca", "MCAC is given twice");

    [Fact]
    public void Mca_CutInsideTheLastCountWithoutEnd_Rejected()
    {
        // GAIN still matches (256 lines), but the last count reads 12 instead of 1234.
        var whole = Mca(end: string.Empty);
        var cut = whole[..(whole.LastIndexOf("1234", StringComparison.Ordinal) + 2)];

        Fails(cut, "cut.mca", "ends inside its last count");
    }

    [Fact]
    public void Mca_WithoutEndButEndingWithALineBreak_StillRead()
    {
        // Third-party writers omit <<END>> (mca-and-files.md §2.1); a complete last line shows nothing was cut.
        var spectrum = Reads(Mca(end: string.Empty), "no-end.mca").Spectrum;

        Assert.Equal(McaChannels, spectrum.Counts.Length);
        Assert.Equal(1234, spectrum.Counts[^1]);
    }

    [Fact]
    public void Mca_NothingDeclaresTheChannelCountAndNoEnd_TruncatedDataRejected()
    {
        // No GAIN, no MCAC, no <<END>>: a copy cut after 200 of 256 lines read as a 200-channel spectrum.
        var whole = Mca(header: "LIVE_TIME - 29.5\nREAL_TIME - 30.0\n", end: string.Empty);
        var lines = whole.Split('\n');
        var cut = string.Join('\n', lines.Take(lines.Length - 57)) + "\n";

        Fails(cut, "short.mca", "<<END>> is missing");
    }

    [Theory]
    [InlineData("CHANNELS: 256\n")]
    [InlineData("CHANNELS - 256\n")]
    public void Mca_ThirdPartyChannelsLineWithoutEnd_Read(string channels)
    {
        // Third-party writers emit "CHANNELS:" and omit <<END>> (mca-and-files.md §2.1): the count they state is checked.
        var text = Mca(header: "LIVE_TIME - 29.5\n" + channels, end: string.Empty);

        Assert.Equal(McaChannels, Reads(text, "third-party.mca").Spectrum.Counts.Length);
        Fails(text.Replace("256", "512", StringComparison.Ordinal), "third-party.mca", "<<DATA>> holds 256 channels but CHANNELS says 512");
    }

    [Fact]
    public void Mca_NothingDeclaresTheChannelCountButEndPresent_Read() =>
        Assert.Equal(McaChannels, Reads(Mca(header: "LIVE_TIME - 29.5\n"), "no-gain.mca").Spectrum.Counts.Length);

    [Theory]
    [InlineData("$MCA_CAL:\n2\n0 0.08\n")]
    [InlineData("$ENER_FIT:\n0 0.08\n")]
    [InlineData("$MEAS_TIM:\n3 300\n")]
    public void Spe_BlockGivenTwice_Rejected(string again)
    {
        var block = again[..again.IndexOf('\n', StringComparison.Ordinal)];

        Fails(Spe(calibration: "$ENER_FIT:\n0.1 0.05\n$MCA_CAL:\n3\n0.1 0.05 0 keV\n", tail: again), "twice.spe", $"a second {block} block");
    }

    [Fact]
    public void Spe_MeasTimWithCommaDecimals_RejectedInsteadOfMisread()
    {
        // "29,5 30,0" split into 29, 5, 30, 0 and read live 29 s, real 5 s.
        var result = Fails(Spe(times: "$MEAS_TIM:\n29,5 30,0\n"), "comma.spe", "$MEAS_TIM: must give exactly two numbers, \"live real\" in seconds");

        Assert.Equal(4, result.LineNumber);
    }

    [Fact]
    public void Spe_DataBlockLastAndCutInsideTheLastCount_Rejected()
    {
        var whole = Spe();
        var cut = whole[..(whole.LastIndexOf("1234", StringComparison.Ordinal) + 2)];

        Fails(cut, "cut.spe", "ends inside its last count");
    }

    [Fact]
    public void Msa_KeywordTheReaderUsesGivenTwice_Rejected()
    {
        // The last #XPERCHAN used to win silently: 0.01 keV/channel instead of 0.04.
        var result = Fails(Msa(extraHeader: "#XPERCHAN    : 0.01\n"), "twice.msa", "#XPERCHAN is given twice (lines 6 and 10)");

        Assert.Equal(10, result.LineNumber);
    }

    [Fact]
    public void Msa_UnusedKeywordGivenTwice_Read() =>
        Assert.Equal(64, Reads(Msa(extraHeader: "#COMMENT     : one\n#COMMENT     : two\n"), "comments.msa").Spectrum.Counts.Length);

    [Fact]
    public void Msa_CutInsideTheLastValueWithoutEndOfData_Rejected()
    {
        var whole = Msa(end: string.Empty);
        var cut = whole[..(whole.LastIndexOf("1234", StringComparison.Ordinal) + 2)];

        Fails(cut, "cut.msa", "ends inside its last count");
    }

    [Theory]
    [InlineData("spectrum.txt")]
    [InlineData("spectrum")]
    public void AnyFormat_Utf16WithByteOrderMark_DetectedByContent(string source)
    {
        // Windows tools ("Unicode" in Notepad, PowerShell 5 Out-File) write UTF-16 with a BOM; the head was sniffed as Latin-1.
        foreach (var encoding in new[] { Encoding.Unicode, Encoding.BigEndianUnicode })
        {
            var bytes = encoding.GetPreamble().Concat(encoding.GetBytes(Msa())).ToArray();

            var result = ReadOne(bytes, source);

            Assert.True(result.IsSuccess, result.Error);
            Assert.Equal(1234, result.Spectrum!.Spectrum.Counts[^1]);
        }
    }

    [Theory]
    [InlineData("spectrum.msa")]
    [InlineData("spectrum.csv")]
    [InlineData("spectrum.mca")]
    public void AnyFormat_Utf16WithoutByteOrderMark_ErrorSaysSo(string source)
    {
        // The message used to quote the first line with its NULs ("# F O R M A T", "not an Amptek .mca file"), which
        // names neither the problem nor the fix.
        var result = ReadOne(Encoding.Unicode.GetBytes(Msa()), source);

        Assert.False(result.IsSuccess);
        Assert.Equal($"{source}: the file looks like UTF-16 text without a byte-order mark, or a binary file (every other byte is NUL); save it as UTF-8 text", result.Error);
    }

    [Fact]
    public void Jsonl_FirstBlockZeroFilled_LaterLinesStillRead()
    {
        // A power loss can leave a block of NULs in a file; a .jsonl reports that line and reads on, so this must not be
        // mistaken for UTF-16 and refused whole.
        var good = File.ReadAllBytes(TestFiles.Fixture("two-good-one-bad.jsonl"));
        var bytes = new byte[4096].Concat("\n"u8.ToArray()).Concat(good).ToArray();

        var results = SpectrumFileReader.Read(new MemoryStream(bytes), "zeroed.jsonl").ToList();

        Assert.Equal(4, results.Count);
        Assert.False(results[0].IsSuccess);
        Assert.Equal([true, false, true], results.Skip(1).Select(r => r.IsSuccess));
    }

    [Theory]
    [InlineData("esc.mca", "\u001b]0;owned\u0007<<PMCA SPECTRUM>>\n")]
    [InlineData("esc.csv", "counts\n1\u001b[2J\n")]
    [InlineData("esc.msa", "#FORMAT : EMSA/MAS Spectral Data File\n#XUNITS : \u001b[31mkeV\n#NPOINTS : 64\n#XPERCHAN : 0.01\n#SPECTRUM :\n")]
    public void AnyFormat_ControlCharactersFromTheFile_NotCopiedIntoTheError(string source, string text)
    {
        // Errors quote the file and go to the operator's terminal: an ESC sequence in a file could retitle or clear it.
        var result = ReadOne(text + Counts(64) + "\n", source);

        Assert.False(result.IsSuccess);
        Assert.DoesNotContain(result.Error!, char.IsControl);
        Assert.Contains("\\u001B", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void DetectFormat_JsonlSavedAsCsv_ReadAsJsonl()
    {
        // A line starting with '{' is no CSV; read as one, the whole file failed with "the header … must name exactly one
        // counts column".
        var bytes = File.ReadAllBytes(TestFiles.Fixture("two-good-one-bad.jsonl"));

        var results = SpectrumFileReader.Read(new MemoryStream(bytes), "export.csv").ToList();

        Assert.Equal(["j-1", "j-2", "j-3"], results.Select(r => r.Id));
        Assert.Equal([true, false, true], results.Select(r => r.IsSuccess));
    }

    [Fact]
    public void Csv_RowWiderThanAnySpectrumTable_RejectedAtThatRow()
    {
        // 2 million columns on one line cost ~1 GB of field strings for a 60-MB file before the width was looked at.
        var text = "counts," + string.Join(',', Enumerable.Range(0, 99).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture))) + "\n"
            + string.Join('\n', Enumerable.Range(0, 64).Select(_ => string.Join(',', Enumerable.Repeat("5", 100)))) + "\n";

        var result = Fails(text, "wide.csv", "row has 100 columns; a spectrum table has at most 64");

        Assert.Equal(1, result.LineNumber);
    }

    [Theory]
    [InlineData("a.mca")]
    [InlineData("a.msa")]
    public void HeaderFormats_MoreHeaderEntriesThanAnySpectrumFile_Rejected(string source)
    {
        // Millions of distinct "K - v" lines used to be kept as metadata: ~0.8 GB for a 60-MB file.
        var header = new StringBuilder();
        for (var i = 0; i < 5000; i++)
        {
            var key = "K" + i.ToString(CultureInfo.InvariantCulture);
            header.Append(source.EndsWith(".mca", StringComparison.Ordinal) ? key + " - v\n" : "#" + key + " : v\n");
        }

        var text = source.EndsWith(".mca", StringComparison.Ordinal) ? Mca(header: "GAIN - 0\n" + header) : Msa(extraHeader: header.ToString());

        Fails(text, source, "more than 4096 header entries");
    }

    /// <summary>
    /// Valid files whose last count has four digits, cut at every byte: a cut copy must read as the whole file's spectrum
    /// (the cut fell in what follows the data) or fail naming the file, never as a different spectrum. CSV is left out: it
    /// has no end marker and nothing declares its length, so a cut just after a line break is undetectable; its cuts
    /// elsewhere are <see cref="CsvCutRowTests.Csv_CutAtAnyByteButALineBreak_WholeSpectrumOrAnError"/>.
    /// </summary>
    [Fact]
    public void SingleSpectrumFormats_CutAtAnyByte_WholeSpectrumOrAnError()
    {
        var files = new (string Name, string Text)[]
        {
            ("whole.mca", Mca() + "<<DP5 CONFIGURATION>>\nMCAC=256;\n<<DP5 CONFIGURATION END>>\n"),
            ("no-end.mca", Mca(end: string.Empty)),
            ("no-gain.mca", Mca(header: "LIVE_TIME - 29.5\n")),
            ("whole.spe", Spe()),
            ("whole.msa", Msa()),
            ("no-end.msa", Msa(end: string.Empty)),
        };
        // Half the cuts fall within a few characters of the last count, where only the line-break rule can see them.
        var cases = from file in Gen.Elements(files)
                    from nearLastCount in Gen.Elements(true, false)
                    from cut in Gen.Choose(0, int.MaxValue)
                    let lastCount = file.Text.LastIndexOf("1234", StringComparison.Ordinal)
                    select (file.Name, file.Text, Cut: nearLastCount ? lastCount + (cut % 6) : cut % (file.Text.Length + 1));
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var whole = ReadOne(c.Text, c.Name);
            var cut = ReadOne(c.Text[..c.Cut], c.Name);
            return whole.IsSuccess
                && (cut.IsSuccess
                    ? cut.Spectrum!.Spectrum.Counts.SequenceEqual(whole.Spectrum!.Spectrum.Counts)
                        && cut.Spectrum.Spectrum.Calibration == whole.Spectrum.Spectrum.Calibration
                        && cut.Spectrum.Spectrum.LiveTime == whole.Spectrum.Spectrum.LiveTime
                        && cut.Spectrum.Spectrum.RealTime == whole.Spectrum.Spectrum.RealTime
                    : cut.Error!.StartsWith(c.Name + ":", StringComparison.Ordinal) || cut.Error.StartsWith(c.Name + " line ", StringComparison.Ordinal));
        });

        // The files are ~1.5 kB; 1500 cuts run in well under a second.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1500), property);
    }

    /// <summary>The same files with one line duplicated anywhere: the original spectrum or an error naming the file.</summary>
    [Fact]
    public void SingleSpectrumFormats_AnyLineDuplicated_SameSpectrumOrAnError()
    {
        var files = new (string Name, string Text)[] { ("a.mca", Mca()), ("a.spe", Spe()), ("a.msa", Msa()) };
        var cases = from file in Gen.Elements(files)
                    from line in Gen.Choose(0, int.MaxValue)
                    select (file.Name, file.Text, Line: line);
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var lines = c.Text.Split('\n').ToList();
            var at = c.Line % lines.Count;
            lines.Insert(at, lines[at]);
            var whole = ReadOne(c.Text, c.Name);
            var mutated = ReadOne(string.Join('\n', lines), c.Name);
            return mutated.IsSuccess
                ? mutated.Spectrum!.Spectrum.Counts.SequenceEqual(whole.Spectrum!.Spectrum.Counts)
                    && mutated.Spectrum.Spectrum.Calibration == whole.Spectrum.Spectrum.Calibration
                    && mutated.Spectrum.Spectrum.LiveTime == whole.Spectrum.Spectrum.LiveTime
                    && mutated.Spectrum.Spectrum.RealTime == whole.Spectrum.Spectrum.RealTime
                : mutated.Error!.StartsWith(c.Name, StringComparison.Ordinal) && mutated.Problem!.Length > 0;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), property);
    }
}

using System.Text;
using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

public sealed class ReaderPropertyTests
{
    // 150 cases per property keeps the class around a second on one core.
    private static readonly Config Quick = Config.QuickThrowOnFailure.WithMaxTest(150);

    private static readonly string[] FixtureNames =
        ["amptek-fe-256.mca", "ortec-128.spe", "emsa-y-ev.msa", "emsa-xy-kev.msa", "energy-counts.csv", "counts-only.tsv", "two-good-one-bad.jsonl"];

    /// <summary>A valid spectrum: 64–16384 channels (the accepted range), gains 0.005–0.1 keV/ch, offsets ±1 keV, |q| ≤ 1e-7.</summary>
    private static Gen<RawSpectrum> Spectra =>
        from channels in Gen.Elements(64, 256, 1000, 2048, 4096, 16384)
        from gainMicro in Gen.Choose(5_000, 100_000)
        from offsetMicro in Gen.Choose(-1_000_000, 1_000_000)
        from quadratic in Gen.Choose(-1000, 1000)
        from seed in Gen.Choose(0, int.MaxValue)
        let calibration = new EnergyCalibration(offsetMicro / 1e6, gainMicro / 1e6, quadratic * 1e-10)
        where calibration.Validate(channels) is null
        select new RawSpectrum
        {
            Id = $"p-{seed}",
            Counts = Counts(channels, seed),
            Calibration = calibration,
            LiveTime = TimeSpan.FromMilliseconds(seed % 100_000),
        };

    private static long[] Counts(int channels, int seed)
    {
        var random = new Random(seed);
        var counts = new long[channels];
        for (var channel = 0; channel < channels; channel++)
        {
            // 24-bit Amptek channels saturate at 16 777 215.
            counts[channel] = random.Next(3) == 0 ? random.NextInt64(0, 16_777_216) : random.Next(0, 20);
        }

        return counts;
    }

    [Fact]
    public void AmptekMca_WriteThenRead_SameCountsAndCalibration()
    {
        var property = Prop.ForAll(Spectra.ToArbitrary(), spectrum =>
        {
            using var text = new StringWriter();
            AmptekMcaWriter.Write(text, spectrum);
            var result = AmptekMcaReader.Read(new StringReader(text.ToString()), "p.mca");
            var read = result.Spectrum?.Spectrum;
            if (read is null)
            {
                return false;
            }

            // The calibration goes through three written points and a refit: equal energies to 1e-9 keV at every channel.
            var channels = spectrum.Counts.Length;
            var energiesAgree = new[] { 0, channels / 3, channels - 1 }
                .All(c => Math.Abs(read.Calibration.EnergyKeV(c) - spectrum.Calibration.EnergyKeV(c)) < 1e-9);
            return read.Counts.SequenceEqual(spectrum.Counts)
                && energiesAgree
                && read.LiveTime == spectrum.LiveTime; // whole milliseconds survive the writer's 6 decimals
        });

        Check.One(Quick, property);
    }

    [Fact]
    public void Jsonl_WriteThenRead_IdenticalSpectrum()
    {
        var property = Prop.ForAll(Spectra.ToArbitrary(), spectrum =>
        {
            var line = SpectrumJsonl.ToJsonLine(new LabelledSpectrum(spectrum) { Elements = ["Fe"] });
            var read = SpectrumJsonl.Read(new StringReader(line), "p.jsonl").Single().Spectrum?.Spectrum;
            return read is not null
                && read.Counts.SequenceEqual(spectrum.Counts)
                && read.Calibration == spectrum.Calibration
                && read.LiveTime == spectrum.LiveTime;
        });

        Check.One(Quick, property);
    }

    [Fact]
    public void AnyReader_CorruptedFixture_NeverThrowsAndErrorsNameTheFile()
    {
        // Mutations a damaged file shows: cut at any byte, a byte replaced by garbage, a line dropped or duplicated.
        var fixtures = FixtureNames.Select(name => (Name: name, Bytes: File.ReadAllBytes(TestFiles.Fixture(name)))).ToArray();
        var cases = from fixture in Gen.Elements(fixtures)
                    from kind in Gen.Choose(0, 3)
                    from position in Gen.Choose(0, int.MaxValue)
                    from garbage in Gen.Elements((byte)'x', (byte)'-', (byte)'\n', (byte)'$', (byte)'#', (byte)'<', (byte)'{', (byte)0, (byte)0xFF, (byte)'9')
                    select (fixture.Name, Bytes: Mutate(fixture.Bytes, kind, position, garbage));
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            using var stream = new MemoryStream(c.Bytes);
            var results = SpectrumFileReader.Read(stream, c.Name).ToList();
            // A .jsonl cut down to blank lines holds no spectra and yields nothing; every other file yields at least one result.
            var mayBeEmpty = c.Name.EndsWith(".jsonl", StringComparison.Ordinal) && Encoding.Latin1.GetString(c.Bytes).All(char.IsWhiteSpace);
            return (results.Count > 0 || mayBeEmpty)
                && results.All(r => r.IsSuccess || (r.Error!.StartsWith(c.Name, StringComparison.Ordinal) && r.Problem!.Length > 0));
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(400), property);
    }

    private static byte[] Mutate(byte[] bytes, int kind, int position, byte garbage)
    {
        var at = position % Math.Max(1, bytes.Length);
        switch (kind)
        {
            case 0:
                return bytes[..at];
            case 1:
                var copy = (byte[])bytes.Clone();
                copy[at] = garbage;
                return copy;
            default:
                var lines = Encoding.Latin1.GetString(bytes).Split('\n').ToList();
                var line = position % lines.Count;
                if (kind == 2)
                {
                    lines.RemoveAt(line);
                }
                else
                {
                    lines.Insert(line, lines[line]);
                }

                return Encoding.Latin1.GetBytes(string.Join('\n', lines));
        }
    }
}

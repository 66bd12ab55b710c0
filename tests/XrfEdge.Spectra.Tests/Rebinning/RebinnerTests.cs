using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

public sealed class RebinnerTests
{
    // 1e-9 relative is issue 2's conservation requirement.
    private const double RelativeTolerance = 1e-9;

    // 200 cases per property keeps the whole class under a second on one core.
    private static readonly Config Quick = Config.QuickThrowOnFailure.WithMaxTest(200);

    /// <summary>A random spectrum: 64–4096 channels (the range real MCAs use), offsets −2…2 keV.</summary>
    private static Gen<(long[] Counts, EnergyCalibration Calibration)> Spectra(bool quadratic) =>
        from channels in Gen.Choose(64, 4096)
        from gainMilli in Gen.Choose(5, 500)
        from offsetMilli in Gen.Choose(-2000, 2000)
        from quadraticPico in quadratic ? Gen.Choose(-100_000, 100_000) : Gen.Constant(0)
        from seed in Gen.Choose(0, int.MaxValue)
        // gainMilli/1000 keV/ch: 0.005–0.5 keV/ch, i.e. 20× finer to 5× coarser than a 0.1-keV bin; q up to ±1e-7 keV/ch².
        let calibration = new EnergyCalibration(offsetMilli / 1000.0, gainMilli / 1000.0, quadraticPico * 1e-12)
        where calibration.Validate(channels) is null
        select (RandomCounts(channels, seed), calibration);

    private static long[] RandomCounts(int channels, int seed)
    {
        var random = new Random(seed);
        var counts = new long[channels];
        for (var channel = 0; channel < channels; channel++)
        {
            // Mostly sparse, sometimes large: 24-bit Amptek channels hold up to 16 777 215.
            counts[channel] = random.Next(4) == 0 ? random.NextInt64(0, 16_777_216) : random.Next(0, 50);
        }

        return counts;
    }

    private static (double[] Target, double Outside) Rebin(long[] counts, EnergyCalibration calibration)
    {
        var target = new double[ModelGrid.BinCount];
        var outside = Rebinner.Rebin(counts, calibration, target);
        return (target, outside);
    }

    [Fact]
    public void Rebin_RandomLinearSpectra_ConservesCountsTo1e9Relative()
    {
        var property = Prop.ForAll(Spectra(quadratic: false).ToArbitrary(), s =>
        {
            var (target, outside) = Rebin(s.Counts, s.Calibration);
            double total = s.Counts.Sum();
            return Math.Abs(target.Sum() + outside - total) <= RelativeTolerance * Math.Max(1, total)
                && target.All(v => v >= 0) && outside >= -RelativeTolerance * Math.Max(1, total);
        });

        Check.One(Quick, property);
    }

    [Fact]
    public void Rebin_RandomQuadraticSpectra_ConservesCountsTo1e9Relative()
    {
        var property = Prop.ForAll(Spectra(quadratic: true).ToArbitrary(), s =>
        {
            var (target, outside) = Rebin(s.Counts, s.Calibration);
            double total = s.Counts.Sum();
            return Math.Abs(target.Sum() + outside - total) <= RelativeTolerance * Math.Max(1, total);
        });

        Check.One(Quick, property);
    }

    /// <summary>
    /// The MCA layouts the 2026-11-24 review named (16384 × 1.9 eV, 8192 × 5, 4096 × 10, 1024 × 40, 512 × 60 eV), offsets
    /// −1…+1 keV (first channels below 0 keV, or a grid start no channel covers), counts anywhere in 0…2^32 − 1 (a
    /// 32-bit MCA channel), sometimes all zero.
    /// </summary>
    private static Gen<(long[] Counts, EnergyCalibration Calibration)> McaLayouts =>
        from layout in Gen.Elements((16384, 0.0019), (8192, 0.005), (4096, 0.01), (1024, 0.04), (512, 0.06))
        from offsetMilli in Gen.Choose(-1000, 1000)
        from seed in Gen.Choose(0, int.MaxValue)
        from zero in Gen.Elements(false, false, false, true)
        let random = new Random(seed)
        select (Enumerable.Range(0, layout.Item1).Select(_ => zero ? 0L : random.NextInt64(0, (long)uint.MaxValue + 1)).ToArray(), new EnergyCalibration(offsetMilli / 1000.0, layout.Item2));

    [Fact]
    public void RebinAndPlan_McaLayoutsUpToUInt32Counts_ConserveCountsAndStayNonNegative()
    {
        var property = Prop.ForAll(McaLayouts.ToArbitrary(), s =>
        {
            var total = (double)s.Counts.Sum();
            var (target, outside) = Rebin(s.Counts, s.Calibration);
            var planned = new double[ModelGrid.BinCount];
            var plannedOutside = RebinPlan.Create(s.Calibration, s.Counts.Length).Apply(s.Counts, planned);
            // Sums up to 16384 × 2^32 ≈ 7e13 stay exact in a double (< 2^53); 1e-9 relative is the conservation requirement.
            var tolerance = RelativeTolerance * Math.Max(1, total);
            return Math.Abs(target.Sum() + outside - total) <= tolerance
                && Math.Abs(planned.Sum() + plannedOutside - total) <= tolerance
                && target.All(v => v >= 0) && planned.All(v => v >= 0) && outside >= -tolerance && plannedOutside >= -tolerance
                && (total > 0 || (target.All(v => v == 0) && planned.All(v => v == 0) && outside == 0 && plannedOutside == 0));
        });
        // 50 cases: each spectrum has up to 16384 channels.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(50), property);
    }

    [Fact]
    public void Rebin_SpectrumAlreadyOnTheModelGrid_IsIdentity()
    {
        // Channel c centred on 0.05 + 0.1·c keV has edges [0.1·c, 0.1·(c+1)): exactly model bin c. The edges computed
        // from the calibration differ from the grid's in the last bit; the rebinner snaps them (SnapToleranceKeV), so
        // the mapping is exact, bin for bin.
        // 300–400 channels: channels 300 and up lie above 30 keV and must all be reported outside.
        var cases = from channels in Gen.Choose(300, 400)
                    from seed in Gen.Choose(0, int.MaxValue)
                    select RandomCounts(channels, seed);
        var grid = new EnergyCalibration(0.05, 0.1);
        var property = Prop.ForAll(cases.ToArbitrary(), counts =>
        {
            var (target, outside) = Rebin(counts, grid);
            var again = Rebin(target.Select(v => (long)Math.Round(v)).ToArray(), grid).Target;
            double above = counts.Skip(ModelGrid.BinCount).Sum();

            // "Outside" is computed as n − (what was placed) per channel, so it also collects every channel's
            // last-bit rounding residue (~1e-16 of its counts): allow 1e-12 of the total for that.
            double total = counts.Sum();
            return Enumerable.Range(0, ModelGrid.BinCount).All(b => target[b] == counts[b])
                && Math.Abs(outside - above) <= (1e-9 * above) + (1e-12 * total) + 1e-12
                && again.SequenceEqual(target);
        });

        Check.One(Quick, property);
    }

    [Fact]
    public void Rebin_OffsetShiftedByWholeBins_ShiftsOutputByThoseBins()
    {
        // Spectra kept inside 1–25 keV so no count leaves the grid under a shift of up to 40 bins (4 keV).
        var cases = from channels in Gen.Choose(64, 1024)
                     from gainMicro in Gen.Choose(2_000, 20_000)
                     from offsetMilli in Gen.Choose(1000, 3000)
                     from shift in Gen.Choose(1, 40)
                     from seed in Gen.Choose(0, int.MaxValue)
                     where offsetMilli / 1000.0 + (channels * gainMicro / 1e6) < 21
                     select (Counts: RandomCounts(channels, seed), Gain: gainMicro / 1e6, Offset: offsetMilli / 1000.0, Shift: shift);
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (before, _) = Rebin(c.Counts, new EnergyCalibration(c.Offset, c.Gain));
            var (after, outside) = Rebin(c.Counts, new EnergyCalibration(c.Offset + (c.Shift * ModelGrid.BinWidthKeV), c.Gain));
            double total = c.Counts.Sum();
            var tolerance = 1e-9 * Math.Max(1, total);
            return Math.Abs(outside) <= tolerance
                && Enumerable.Range(0, c.Shift).All(b => Math.Abs(after[b]) <= tolerance)
                && Enumerable.Range(0, ModelGrid.BinCount - c.Shift).All(b => Math.Abs(after[b + c.Shift] - before[b]) <= tolerance);
        });

        Check.One(Quick, property);
    }

    [Fact]
    public void Rebin_CoarseChannel_SplitsByOverlap()
    {
        // One 0.25-keV channel centred on 5.0 keV covers [4.875, 5.125): 0.025/0.25 of it in bin 48, 0.1/0.25 in bins 49 and 50, 0.025/0.25 in 51.
        var counts = new long[64];
        counts[20] = 1000;
        var calibration = new EnergyCalibration(5.0 - (20 * 0.25), 0.25);

        var (target, outside) = Rebin(counts, calibration);

        Assert.Equal(100, target[48], 9);
        Assert.Equal(400, target[49], 9);
        Assert.Equal(400, target[50], 9);
        Assert.Equal(100, target[51], 9);
        Assert.Equal(1000, target.Sum(), 9);
        Assert.Equal(0, outside, 9);
    }

    [Fact]
    public void Rebin_FineChannels_SumIntoTheirBin()
    {
        // 0.01-keV channels centred on 0.005 + 0.01·c: channels 10c … 10c+9 make up model bin c exactly.
        var counts = Enumerable.Range(0, 3000).Select(c => (long)(c % 7)).ToArray();
        var calibration = new EnergyCalibration(0.005, 0.01);

        var (target, outside) = Rebin(counts, calibration);

        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            Assert.Equal(counts.Skip(bin * 10).Take(10).Sum(), target[bin], 6);
        }

        Assert.Equal(0, outside, 9);
    }

    [Fact]
    public void Rebin_NegativeOffset_ReportsCountsBelowZeroAndAbove30KeV()
    {
        // The NIST layout (−0.9553045 keV, 0.009999 keV/ch, 4096 ch) with one count per channel:
        // E(ch) < 0 below channel 0.9553045/0.009999 = 95.54 → lower edges give 96.04 channels below 0 keV;
        // the top edge is −0.9553045 + 0.009999·4095.5 = 39.996 keV → (39.996 − 30)/0.009999 = 999.7 channels above.
        var counts = Enumerable.Repeat(1L, 4096).ToArray();
        var calibration = new EnergyCalibration(-0.9553045, 0.009999);
        var below = (0 - calibration.LowerEdgeKeV(0)) / 0.009999;
        var above = (calibration.UpperEdgeKeV(4095) - 30) / 0.009999;

        var (target, outside) = Rebin(counts, calibration);

        Assert.Equal(below + above, outside, 6);
        Assert.Equal(4096, target.Sum() + outside, 9);
        // A full 0.1-keV bin holds 0.1/0.009999 = 10.001 one-count channels.
        Assert.Equal(0.1 / 0.009999, target[150], 9);
    }

    [Fact]
    public void Rebin_SpectrumEntirelyAbove30KeV_AllOutside()
    {
        var counts = Enumerable.Repeat(5L, 100).ToArray();

        var (target, outside) = Rebin(counts, new EnergyCalibration(35, 0.1));

        Assert.All(target, v => Assert.Equal(0, v));
        Assert.Equal(500, outside);
    }

    [Fact]
    public void Rebin_QuadraticCalibration_PlacesALineAtItsEnergy()
    {
        // q = 1e-7 keV/ch² bends the scale by 0.4 keV at channel 2000: a peak at the channel whose centre is
        // 6.4039 keV (Fe Kα1, xraylib 4.0) must land in model bin 64 = [6.4, 6.5) keV.
        var calibration = new EnergyCalibration(-0.1, 0.0075, 1e-7);
        var counts = new long[4096];
        var channel = (int)Math.Round(calibration.Channel(6.4039));
        counts[channel] = 1_000_000;
        var centre = calibration.EnergyKeV(channel);

        var (target, _) = Rebin(counts, calibration);

        Assert.Equal(ModelGrid.BinOf(centre), Array.IndexOf(target, target.Max()));
        Assert.Equal(64, ModelGrid.BinOf(centre));
        Assert.Equal(1_000_000, target.Sum(), 6);
    }

    [Fact]
    public void Rebin_RecordOverload_ReportsTotalAndOutside()
    {
        var counts = Enumerable.Repeat(2L, 512).ToArray();
        var spectrum = new RawSpectrum { Id = "r", Counts = counts, Calibration = new EnergyCalibration(-0.5, 0.1) };

        var result = Rebinner.Rebin(spectrum);

        // 512 channels × 2 counts = 1024.
        Assert.Equal(1024, result.TotalCounts);
        Assert.Equal(1024, result.Counts.Sum() + result.CountsOutsideRange, 9);
        Assert.True(result.CountsOutsideRange > 0);
    }

    [Fact]
    public void Rebin_UnusableCalibration_ThrowsWithTheReason()
    {
        var error = Assert.Throws<ArgumentException>(() => Rebin(new long[64], new EnergyCalibration(0, -0.01)));

        Assert.Contains("gain must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RebinAndModelInput_UnusableCalibration_ErrorNamesTheSpectrum()
    {
        // dE/dc = 0.01 − 2·1e-5·c turns at channel 500, inside 1024 channels (EnergyCalibrationTests' non-monotonic case).
        var spectrum = new RawSpectrum { Id = "bench-7/shot-3", Counts = new long[1024], Calibration = new EnergyCalibration(0, 0.01, -1e-5) };

        foreach (var action in new Action[] { () => Rebinner.Rebin(spectrum), () => ModelInput.From(spectrum) })
        {
            var error = Assert.Throws<ArgumentException>(action);
            Assert.Contains("bench-7/shot-3", error.Message, StringComparison.Ordinal);
            Assert.Contains("not monotonic", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Rebin_WrongTargetLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => Rebinner.Rebin(new long[64], new EnergyCalibration(0, 0.1), new double[299]));
    }

    [Fact]
    public void ModelInput_From_MatchesRebinnedCountsAsFloat()
    {
        var counts = Enumerable.Range(0, 1024).Select(c => (long)c).ToArray();
        var spectrum = new RawSpectrum { Id = "m", Counts = counts, Calibration = new EnergyCalibration(0.0, 0.03) };

        var input = ModelInput.From(spectrum);
        var rebinned = Rebinner.Rebin(spectrum);

        Assert.Equal(rebinned.Counts.Select(v => (float)v), input.Values);
        Assert.Equal("rebin-counts-v1", ModelInput.PreprocessingId);
    }
}

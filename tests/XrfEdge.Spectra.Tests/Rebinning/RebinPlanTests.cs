using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

/// <summary>RebinPlan is Rebinner's rule precomputed: the same output for any calibration, channel width and counts.</summary>
public sealed class RebinPlanTests
{
    // 200 cases keep this under a second on one core (as RebinnerTests).
    private static readonly Config Quick = Config.QuickThrowOnFailure.WithMaxTest(200);

    private static Gen<(long[] Counts, EnergyCalibration Calibration)> Spectra =>
        from channels in Gen.Choose(64, 4096)
        from gainMilli in Gen.Choose(5, 500)
        from offsetMilli in Gen.Choose(-2000, 2000)
        from quadraticPico in Gen.Choose(-100_000, 100_000)
        from seed in Gen.Choose(0, int.MaxValue)
        // Same ranges as RebinnerTests: 0.005–0.5 keV/channel, offsets ±2 keV, q up to ±1e-7 keV/ch².
        let calibration = new EnergyCalibration(offsetMilli / 1000.0, gainMilli / 1000.0, quadraticPico * 1e-12)
        where calibration.Validate(channels) is null
        select (Counts(channels, seed), calibration);

    private static long[] Counts(int channels, int seed)
    {
        var random = new Random(seed);
        var counts = new long[channels];
        for (var i = 0; i < channels; i++)
        {
            counts[i] = random.Next(4) == 0 ? 0 : random.Next(0, 100_000);
        }

        return counts;
    }

    [Fact]
    public void Apply_AnyCalibration_EqualsRebinnerAsFloat32()
    {
        var property = Prop.ForAll(Spectra.ToArbitrary(), s =>
        {
            var expected = new double[ModelGrid.BinCount];
            var expectedOutside = Rebinner.Rebin(s.Counts, s.Calibration, expected);
            var actual = new float[ModelGrid.BinCount];
            var outside = RebinPlan.Create(s.Calibration, s.Counts.Length).Apply(s.Counts, actual);
            var total = (double)s.Counts.Sum();
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                // Same float32 value as ModelInput.Fill's cast, up to 1 ulp from summation order.
                var tolerance = Math.Max(1e-6, Math.Abs(expected[bin]) * 2e-7);
                if (Math.Abs(actual[bin] - (float)expected[bin]) > tolerance)
                {
                    return false;
                }
            }

            return Math.Abs(outside - expectedOutside) <= 1e-9 * Math.Max(1, total);
        });
        Check.One(Quick, property);
    }

    [Theory]
    // Channel edges on grid edges: the model grid itself, channels of 1/2, 1/4 and 1/5 of a bin, and 10 eV channels
    // starting at −10 eV. Each channel lies wholly inside one bin, so each bin is exactly the sum of its channels.
    [InlineData(300, 0.05, 0.1)]
    [InlineData(600, 0.025, 0.05)]
    [InlineData(1200, 0.0125, 0.025)]
    [InlineData(1500, 0.01, 0.02)]
    [InlineData(3000, -0.005, 0.01)]
    public void Apply_ChannelEdgesOnGridEdges_EachBinExactlyTheSumOfItsChannels(int channels, double offsetKeV, double gainKeVPerChannel)
    {
        var calibration = new EnergyCalibration(offsetKeV, gainKeVPerChannel);
        // Every 7th channel holds 10^7 counts (a strong line in a 24-bit channel), the others none: a sliver of a full
        // channel leaking into an empty neighbour shows as a non-zero bin.
        var counts = Enumerable.Range(0, channels).Select(c => c % 7 == 0 ? 10_000_000L : 0L).ToArray();
        var expected = new double[ModelGrid.BinCount];
        for (var channel = 0; channel < channels; channel++)
        {
            var bin = (int)Math.Round((calibration.EnergyKeV(channel) - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV - 0.5);
            if (bin is >= 0 and < ModelGrid.BinCount)
            {
                expected[bin] += counts[channel];
            }
        }

        var actual = new float[ModelGrid.BinCount];
        RebinPlan.Create(calibration, channels).Apply(counts, actual);

        // Rebinner snaps edges within 1e-12 keV of a grid edge onto it (training's inputs); the plan must do the same.
        Assert.Equal(expected.Select(v => (float)v), actual);
    }

    [Fact]
    public void Apply_WrongChannelCount_Throws()
    {
        var plan = RebinPlan.Create(new EnergyCalibration(0.05, 0.1), 300);

        Assert.Throws<ArgumentException>(() => plan.Apply(new long[299], new float[ModelGrid.BinCount]));
    }

    [Fact]
    public void Matches_SameCalibrationValue_IsTrue()
    {
        // Records compare by value: a spectrum read later with an equal calibration reuses the plan.
        var plan = RebinPlan.Create(new EnergyCalibration(-0.01, 0.015), 2048);

        Assert.True(plan.Matches(new EnergyCalibration(-0.01, 0.015), 2048));
        Assert.False(plan.Matches(new EnergyCalibration(-0.01, 0.015), 4096));
    }

    [Fact]
    public void ApplyToDoubles_AnyCalibration_EqualsRebinnerWithinOnePartInABillion()
    {
        var property = Prop.ForAll(Spectra.ToArbitrary(), s =>
        {
            var expected = new double[ModelGrid.BinCount];
            var expectedOutside = Rebinner.Rebin(s.Counts, s.Calibration, expected);
            var actual = new double[ModelGrid.BinCount];
            var outside = RebinPlan.Create(s.Calibration, s.Counts.Length).Apply(s.Counts, actual);
            var total = (double)s.Counts.Sum();
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                // 1e-9 relative (brief): only the summation order differs; the absolute floor is for bins that are 0.
                if (Math.Abs(actual[bin] - expected[bin]) > 1e-9 * Math.Max(1, Math.Abs(expected[bin])))
                {
                    return false;
                }
            }

            return Math.Abs(outside - expectedOutside) <= 1e-9 * Math.Max(1, total);
        });
        Check.One(Quick, property);
    }

    [Fact]
    public void Apply_FloatAndDoubleDestinations_AgreeAfterTheCast()
    {
        // 2048 channels × 15 eV from −10 eV: the benchmark spectra's calibration (BenchmarkSpectra).
        var calibration = new EnergyCalibration(-0.010, 0.015, 0.0);
        var counts = Counts(2048, seed: 7);
        var plan = RebinPlan.Create(calibration, counts.Length);
        var asDouble = new double[ModelGrid.BinCount];
        var asFloat = new float[ModelGrid.BinCount];

        var outsideDouble = plan.Apply(counts, asDouble);
        var outsideFloat = plan.Apply(counts, asFloat);

        Assert.Equal(asDouble.Select(v => (float)v), asFloat);
        Assert.Equal(outsideDouble, outsideFloat);
    }
    [Fact]
    public void Apply_CountOutsideTheVectorConversionRange_EqualsRebinner()
    {
        // 2^52 + 1 is beyond the exponent trick's range (counts below 2^52 only), so Apply converts one by one; the
        // channel gain 0.015 keV and offset −0.010 keV are BenchmarkSpectra's.
        var calibration = new EnergyCalibration(-0.010, 0.015, 0.0);
        var counts = Counts(2048, seed: 11);
        counts[700] = (1L << 52) + 1;
        var expected = new double[ModelGrid.BinCount];
        Rebinner.Rebin(counts, calibration, expected);
        var actual = new double[ModelGrid.BinCount];

        RebinPlan.Create(calibration, counts.Length).Apply(counts, actual);

        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            Assert.True(Math.Abs(actual[bin] - expected[bin]) <= 1e-9 * Math.Max(1, Math.Abs(expected[bin])), $"bin {bin}: {actual[bin]} vs {expected[bin]}");
        }
    }
    [Fact]
    public void Apply_SixteenThousandChannels_EqualsRebinner()
    {
        // 16384 channels × 1.9 eV: the largest common MCA setting, above the 8 k channels Apply keeps on the stack.
        var calibration = new EnergyCalibration(0.0, 0.0019, 0.0);
        var counts = Counts(16384, seed: 3);
        var expected = new double[ModelGrid.BinCount];
        var expectedOutside = Rebinner.Rebin(counts, calibration, expected);
        var actual = new double[ModelGrid.BinCount];

        var outside = RebinPlan.Create(calibration, counts.Length).Apply(counts, actual);

        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            Assert.True(Math.Abs(actual[bin] - expected[bin]) <= 1e-9 * Math.Max(1, Math.Abs(expected[bin])), $"bin {bin}: {actual[bin]} vs {expected[bin]}");
        }

        Assert.True(Math.Abs(outside - expectedOutside) <= 1e-9 * counts.Sum(), $"outside {outside} vs {expectedOutside}");
    }
}

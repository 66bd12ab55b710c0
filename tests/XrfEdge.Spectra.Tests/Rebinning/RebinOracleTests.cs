using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

/// <summary>
/// Rebinner and RebinPlan against an independent oracle over every calibration <see cref="EnergyCalibration.Validate"/>
/// accepts. Σ bins + outside = Σ counts holds by construction in both (outside is computed as total − inside), so a
/// conservation property alone cannot catch counts put in the wrong bin or dropped as "outside" when they were inside.
/// The oracle is the spectrum's cumulative count at each grid edge, C(E) = whole channels below E + the uniform share of
/// the channel holding E; bin b must hold C(edge b+1) − C(edge b) and outside must be total − (C(30) − C(0)).
/// </summary>
public sealed class RebinOracleTests
{
    private static readonly Config Quick = Config.QuickThrowOnFailure.WithMaxTest(150);

    /// <summary>
    /// 1–16384 channels, gain over the whole accepted range (EnergyCalibration.MinGainKeVPerChannel–MaxGainKeVPerChannel, 0.0002–2 keV/ch, log-uniform), offsets −5…40 keV (the NIST
    /// −0.955 keV and spectra starting above the grid's end included), quadratic terms up to ±1e-6 keV/ch².
    /// </summary>
    private static Gen<(long[] Counts, EnergyCalibration Calibration)> Spectra =>
        from channels in Gen.Choose(1, 16384)
        from gainExponent in Gen.Choose(0, 1000)
        from offsetMilli in Gen.Choose(-5000, 40000)
        from quadraticPico in Gen.Choose(-1_000_000, 1_000_000)
        from seed in Gen.Choose(0, int.MaxValue)
        let gain = EnergyCalibration.MinGainKeVPerChannel * Math.Pow(EnergyCalibration.MaxGainKeVPerChannel / EnergyCalibration.MinGainKeVPerChannel, gainExponent / 1000.0)
        let calibration = new EnergyCalibration(offsetMilli / 1000.0, gain, quadraticPico * 1e-12)
        where calibration.Validate(channels) is null
        select (Counts(channels, seed), calibration);

    private static long[] Counts(int channels, int seed)
    {
        var random = new Random(seed);
        var counts = new long[channels];
        for (var channel = 0; channel < channels; channel++)
        {
            counts[channel] = random.Next(4) == 0 ? random.NextInt64(0, 16_777_216) : random.Next(0, 50);
        }

        return counts;
    }

    /// <summary>The oracle: counts at or below <paramref name="energyKeV"/>, channels uniform in energy.</summary>
    private static double CumulativeAt(double energyKeV, long[] counts, double[] prefix, EnergyCalibration calibration)
    {
        // The first channel whose upper edge lies above the energy (edges increase: Validate checked monotonicity).
        int lo = 0, hi = counts.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (calibration.UpperEdgeKeV(mid) <= energyKeV)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        if (lo == counts.Length)
        {
            return prefix[lo];
        }

        var lower = calibration.LowerEdgeKeV(lo);
        var fraction = Math.Clamp((energyKeV - lower) / (calibration.UpperEdgeKeV(lo) - lower), 0, 1);
        return prefix[lo] + (counts[lo] * fraction);
    }

    private static bool MatchesOracle(long[] counts, EnergyCalibration calibration, double[] bins, double outside)
    {
        var prefix = new double[counts.Length + 1];
        for (var channel = 0; channel < counts.Length; channel++)
        {
            prefix[channel + 1] = prefix[channel] + counts[channel];
        }

        var total = prefix[^1];
        // Grid-edge snapping (Rebinner.SnapToleranceKeV) may move up to 1e-12 keV of a channel ≥ 0.0002 keV wide, and
        // float summation adds ~1e-16 per term: 1e-8 of the total covers both with room.
        var tolerance = 1e-8 * Math.Max(1, total);
        var previous = CumulativeAt(ModelGrid.LowerKeV, counts, prefix, calibration);
        var start = previous;
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            var next = CumulativeAt(ModelGrid.BinLowerKeV(bin + 1), counts, prefix, calibration);
            if (Math.Abs(bins[bin] - (next - previous)) > tolerance)
            {
                return false;
            }

            previous = next;
        }

        return Math.Abs(outside - (total - (previous - start))) <= tolerance;
    }

    /// <summary>
    /// Channel edges on grid edges, where the bin arithmetic is most fragile (0.30000000000000004 / 0.1 &gt; 3): channels
    /// of 0.1/k keV and k·0.1 keV whose edges fall on multiples of 0.1 keV, from below 0 keV (NIST-like) and from 0.
    /// </summary>
    [Theory]
    [InlineData(3000, -0.955, 0.01)] // NIST-like: lower edge −0.96 keV, 10 channels per bin
    [InlineData(3000, 0.005, 0.01)] // edges at 0.00, 0.01, …: 10 per bin
    [InlineData(300, 0.05, 0.1)] // the grid itself
    [InlineData(1000, -0.95, 0.1)] // the grid shifted by 10 bins below 0 keV
    [InlineData(600, 0.025, 0.05)] // 2 per bin
    [InlineData(100, 0.15, 0.3)] // 3 bins per channel
    [InlineData(64, 0.25, 0.5)] // 5 bins per channel, runs past 30 keV
    [InlineData(16384, 0.0005, 0.001)] // 100 per bin
    public void RebinAndPlan_ChannelEdgesOnGridEdges_EachBinHoldsTheOracleShare(int channels, double offsetKeV, double gainKeVPerChannel)
    {
        var calibration = new EnergyCalibration(offsetKeV, gainKeVPerChannel);
        var counts = Counts(channels, channels);
        var bins = new double[ModelGrid.BinCount];
        var outside = Rebinner.Rebin(counts, calibration, bins);
        Assert.True(MatchesOracle(counts, calibration, bins, outside), "Rebinner");
        outside = RebinPlan.Create(calibration, channels).Apply(counts, bins);
        Assert.True(MatchesOracle(counts, calibration, bins, outside), "RebinPlan");
    }

    [Fact]
    public void Rebin_AnyAcceptedCalibration_EachBinHoldsTheOracleShare()
    {
        var property = Prop.ForAll(Spectra.ToArbitrary(), s =>
        {
            var bins = new double[ModelGrid.BinCount];
            var outside = Rebinner.Rebin(s.Counts, s.Calibration, bins);
            return MatchesOracle(s.Counts, s.Calibration, bins, outside);
        });
        Check.One(Quick, property);
    }

    [Fact]
    public void Apply_AnyAcceptedCalibration_EachBinHoldsTheOracleShare()
    {
        var property = Prop.ForAll(Spectra.ToArbitrary(), s =>
        {
            var bins = new double[ModelGrid.BinCount];
            var outside = RebinPlan.Create(s.Calibration, s.Counts.Length).Apply(s.Counts, bins);
            return MatchesOracle(s.Counts, s.Calibration, bins, outside);
        });
        Check.One(Quick, property);
    }
}

using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

/// <summary>
/// Second review of the edge snapping (2026-11-24): Rebinner and RebinPlan snap a channel edge onto a grid edge only
/// within <see cref="Rebinner.SnapToleranceKeV"/> (1e-12 keV, rounding distance), so a real edge that is merely close to a
/// grid edge (a 10.005 eV channel drifting past the 10 keV edge) keeps its place and its counts split as measured.
/// </summary>
public sealed class SnapToleranceTests
{
    // 10.005 eV/channel: an SDD's 10 eV setting with a 0.05 % gain error, so its edges pass the grid's one by one.
    private const double GainKeVPerChannel = 0.010005;

    // Channel 1000's upper edge is placed this far above the 10 keV grid edge (bins 99 | 100).
    private const int Channel = 1000;

    [Theory]
    [InlineData(2e-12)] // just outside the snap tolerance
    [InlineData(1e-9)]
    [InlineData(1e-6)]
    [InlineData(4e-3)] // 40 % of the channel past the edge
    [InlineData(-1e-9)]
    [InlineData(-4e-3)]
    public void Rebin_EdgeNearAGridEdge_SplitsTheChannelAtItsOwnEdge(double distanceKeV)
    {
        var calibration = new EnergyCalibration(10.0 + distanceKeV - (GainKeVPerChannel * (Channel + 0.5)), GainKeVPerChannel);
        var upper = calibration.UpperEdgeKeV(Channel);
        var lower = calibration.LowerEdgeKeV(Channel);

        // Not moved at all: beyond the tolerance the edge is the calibration's own.
        Assert.Equal(upper, Rebinner.SnapToGrid(upper));

        const long n = 10_000_000;
        var counts = new long[2048];
        counts[Channel] = n;
        var training = new double[ModelGrid.BinCount];
        Rebinner.Rebin(counts, calibration, training);
        var inference = new double[ModelGrid.BinCount];
        RebinPlan.Create(calibration, counts.Length).Apply(counts, inference);

        // Counts uniform within the channel: the share above 10 keV is (upper − 10)/(upper − lower), from the raw edges.
        var above = n * Math.Clamp((upper - 10.0) / (upper - lower), 0, 1);
        foreach (var bins in new[] { training, inference })
        {
            // A 10 eV channel lies within bins 99 and 100 (9.9–10.1 keV) at every distance above.
            Assert.Equal(above, bins[100], 1e-9 * n);
            Assert.Equal(n - above, bins[99], 1e-9 * n);
        }
    }
}

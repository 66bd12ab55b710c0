using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

/// <summary>
/// The coverage report (<see cref="EnergyCoverage"/>, computed from the calibration's first and last channel edges) agrees
/// with what the rebinned input holds: a spectrum with counts in every channel fills exactly the bins that overlap the
/// reported [lower, upper) range, <c>none</c> exactly when it fills none, <c>full</c> only when the last bin is filled.
/// </summary>
public sealed class RebinCoverageAgreementTests
{
    /// <summary>
    /// Accepted calibrations: 64–4096 channels, 0.5 eV–0.5 keV per channel, offsets −35…+35 keV (so that some spectra
    /// lie wholly below 0 or above 30 keV, which read <c>none</c>), quadratic terms to ±1e-7 keV/channel².
    /// </summary>
    private static Gen<(int Channels, EnergyCalibration Calibration)> Calibrations =>
        from channels in Gen.Choose(64, 4096)
        from gainMicro in Gen.Choose(500, 500_000)
        from offsetMilli in Gen.Choose(-35_000, 35_000)
        from quadraticPico in Gen.Choose(-100_000, 100_000)
        let calibration = new EnergyCalibration(offsetMilli / 1000.0, gainMicro / 1e6, quadraticPico * 1e-12)
        where calibration.Validate(channels) is null
        select (channels, calibration);

    [Fact]
    public void Coverage_AnyAcceptedCalibration_AgreesWithTheFilledBins()
    {
        var property = Prop.ForAll(Calibrations.ToArbitrary(), c =>
        {
            var counts = Enumerable.Repeat(1000L, c.Channels).ToArray();
            var target = new double[ModelGrid.BinCount];
            Rebinner.Rebin(counts, c.Calibration, target);
            var coverage = EnergyCoverage.Of(c.Calibration.LowerEdgeKeV(0), c.Calibration.UpperEdgeKeV(c.Channels - 1), trainedMinKeV: 20, trainedMaxStartKeV: null);
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                var overlaps = coverage.Status != CoverageStatus.None
                    && ModelGrid.BinLowerKeV(bin) < coverage.UpperKeV && ModelGrid.BinLowerKeV(bin + 1) > coverage.LowerKeV;
                if (overlaps != target[bin] > 0)
                {
                    return false;
                }
            }

            return (coverage.Status == CoverageStatus.None) == target.All(v => v == 0)
                && (coverage.Status != CoverageStatus.Full || target[ModelGrid.BinCount - 1] > 0);
        });
        // 300 cases, as the other rebin properties' order of magnitude (under a second on one core).
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}

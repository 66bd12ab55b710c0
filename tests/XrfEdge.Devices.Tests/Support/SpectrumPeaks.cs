using XrfEdge.Spectra;

namespace XrfEdge.Devices.Tests.Support;

/// <summary>Peak look-ups the real-spectra reader tests share.</summary>
internal static class SpectrumPeaks
{
    /// <summary>
    /// Energy (keV, by the spectrum's own calibration) of the channel with the most counts between
    /// <paramref name="fromKeV"/> and <paramref name="toKeV"/>; the first such channel on a tie.
    /// </summary>
    public static double StrongestEnergyKeV(RawSpectrum spectrum, double fromKeV, double toKeV = double.PositiveInfinity)
    {
        var counts = spectrum.Counts;
        var first = Math.Max(0, (int)Math.Ceiling(spectrum.Calibration.Channel(fromKeV)));
        var last = double.IsPositiveInfinity(toKeV)
            ? counts.Length - 1
            : Math.Min(counts.Length - 1, (int)Math.Floor(spectrum.Calibration.Channel(toKeV)));
        var best = first;
        for (var channel = first; channel <= last; channel++)
        {
            best = counts[channel] > counts[best] ? channel : best;
        }

        return spectrum.Calibration.EnergyKeV(best);
    }
}

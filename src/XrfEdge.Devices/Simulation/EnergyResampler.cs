using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Simulation;

/// <summary>
/// Maps a spectrum onto another channel grid by energy (fractional overlap of channel edges, counts
/// conserved up to rounding): a simulated detector has one fixed calibration whatever calibration the
/// spectrum source drew its spectrum with.
/// </summary>
public static class EnergyResampler
{
    /// <summary>Counts of <paramref name="source"/> on <paramref name="channels"/> channels of <paramref name="target"/>.</summary>
    public static long[] Resample(RawSpectrum source, EnergyCalibration target, int channels)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Counts.Length == channels && source.Calibration == target)
        {
            return (long[])source.Counts.Clone();
        }

        var result = new double[channels];
        var s = source.Calibration;
        var targetChannel = 0;
        for (var channel = 0; channel < source.Counts.Length; channel++)
        {
            var count = source.Counts[channel];
            var lo = s.LowerEdgeKeV(channel);
            var hi = s.UpperEdgeKeV(channel);
            if (count == 0 || hi <= lo)
            {
                continue;
            }

            while (targetChannel > 0 && target.LowerEdgeKeV(targetChannel) > lo)
            {
                targetChannel--;
            }

            while (targetChannel < channels && target.UpperEdgeKeV(targetChannel) <= lo)
            {
                targetChannel++;
            }

            for (var t = targetChannel; t < channels; t++)
            {
                var tLo = target.LowerEdgeKeV(t);
                if (tLo >= hi)
                {
                    break;
                }

                var overlap = Math.Min(hi, target.UpperEdgeKeV(t)) - Math.Max(lo, tLo);
                if (overlap > 0)
                {
                    result[t] += count * overlap / (hi - lo);
                }
            }
        }

        return Array.ConvertAll(result, c => (long)Math.Round(c));
    }
}

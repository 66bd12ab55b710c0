using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Spectra.Rebinning;

/// <summary>
/// Redistributes a calibrated MCA histogram onto the <see cref="ModelGrid"/> by the fractional overlap of
/// channel edges: a source channel <c>[lo, hi)</c> gives each model bin the share of its counts equal to the
/// share of its width that falls in the bin (counts assumed uniform in energy within a channel). Counts are
/// conserved exactly up to floating-point rounding: Σ model bins + counts outside 0–30 keV = Σ source counts.
/// Works for source channels finer or coarser than 0.1 keV, negative offsets and quadratic calibrations.
/// </summary>
public static class Rebinner
{
    /// <summary>Rebins <paramref name="spectrum"/> to a new array.</summary>
    /// <exception cref="ArgumentException">The calibration is not usable for the spectrum's channel count.</exception>
    public static RebinResult Rebin(RawSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        var target = new double[ModelGrid.BinCount];
        var outside = Rebin(spectrum.Counts, spectrum.Calibration, target);
        return new RebinResult(target, outside, spectrum.TotalCounts);
    }

    /// <summary>
    /// Rebins <paramref name="counts"/> into <paramref name="target"/> (length <see cref="ModelGrid.BinCount"/>,
    /// overwritten) without allocating.
    /// </summary>
    /// <returns>The counts that fell outside 0–30 keV.</returns>
    /// <exception cref="ArgumentException">The calibration is not usable, or <paramref name="target"/> has the wrong length.</exception>
    public static double Rebin(ReadOnlySpan<long> counts, EnergyCalibration calibration, Span<double> target)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (target.Length != ModelGrid.BinCount)
        {
            throw new ArgumentException($"target must have {ModelGrid.BinCount} bins, has {target.Length}", nameof(target));
        }

        var problem = calibration.Validate(counts.Length);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(calibration));
        }

        target.Clear();
        var outside = 0.0;
        var lower = calibration.LowerEdgeKeV(0);
        for (var channel = 0; channel < counts.Length; channel++)
        {
            var upper = calibration.EnergyKeV(channel + 0.5);
            var n = counts[channel];
            if (n != 0)
            {
                outside += Spread(n, lower, upper, target);
            }

            lower = upper;
        }

        return outside;
    }

    /// <summary>Adds <paramref name="n"/> counts spread uniformly over <c>[lowerKeV, upperKeV)</c>; returns the part outside the grid.</summary>
    private static double Spread(long n, double lowerKeV, double upperKeV, Span<double> target)
    {
        var width = upperKeV - lowerKeV;
        var clippedLower = Math.Max(lowerKeV, ModelGrid.LowerKeV);
        var clippedUpper = Math.Min(upperKeV, ModelGrid.UpperKeV);
        if (clippedUpper <= clippedLower)
        {
            return n;
        }

        var first = (int)Math.Floor((clippedLower - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV);
        var last = (int)Math.Floor((clippedUpper - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV);
        first = Math.Clamp(first, 0, ModelGrid.BinCount - 1);
        last = Math.Clamp(last, 0, ModelGrid.BinCount - 1);

        double inside = 0;
        if (first == last)
        {
            inside = n * ((clippedUpper - clippedLower) / width);
            target[first] += inside;
        }
        else
        {
            var perKeV = n / width;
            for (var bin = first; bin <= last; bin++)
            {
                var lo = Math.Max(clippedLower, ModelGrid.BinLowerKeV(bin));
                var hi = Math.Min(clippedUpper, ModelGrid.BinLowerKeV(bin + 1));
                if (hi > lo)
                {
                    var share = perKeV * (hi - lo);
                    target[bin] += share;
                    inside += share;
                }
            }
        }

        // Whatever was not placed inside is outside: computing it as the difference keeps Σ exact.
        return n - inside;
    }
}

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
    /// <summary>
    /// Channel edges closer than this to a model-grid edge are treated as on it, keV: 1e-12 keV is a few hundred ulps at
    /// 30 keV, enough for the rounding of E(c ± ½) and nothing physical (a detector resolves ~0.1 keV).
    /// </summary>
    public const double SnapToleranceKeV = 1e-12;

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
        // An edge a rounding error away from a grid edge (0.05 + 0.1·(c + ½) vs 0.1·(c + 1)) is that grid edge: otherwise a
        // 1e-16 sliver of each channel leaks into the neighbouring bin and a spectrum already on the grid does not map to itself.
        var snappedLower = SnapToGrid(lowerKeV);
        var snappedUpper = SnapToGrid(upperKeV);
        if (snappedUpper > snappedLower)
        {
            lowerKeV = snappedLower;
            upperKeV = snappedUpper;
        }

        var width = upperKeV - lowerKeV;
        var clippedLower = Math.Max(lowerKeV, ModelGrid.LowerKeV);
        var clippedUpper = Math.Min(upperKeV, ModelGrid.UpperKeV);
        if (clippedUpper <= clippedLower)
        {
            return n;
        }

        // Division by 0.1 is inexact (0.30000000000000004 / 0.1 > 3), so the estimated bins are corrected against the
        // grid's own edges: first is the bin holding clippedLower, last the bin holding the end of [lower, upper).
        var first = Math.Clamp((int)Math.Floor((clippedLower - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV), 0, ModelGrid.BinCount - 1);
        while (first > 0 && ModelGrid.BinLowerKeV(first) > clippedLower)
        {
            first--;
        }

        while (first < ModelGrid.BinCount - 1 && ModelGrid.BinLowerKeV(first + 1) <= clippedLower)
        {
            first++;
        }

        var last = Math.Clamp((int)Math.Ceiling((clippedUpper - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV) - 1, first, ModelGrid.BinCount - 1);
        while (last > first && ModelGrid.BinLowerKeV(last) >= clippedUpper)
        {
            last--;
        }

        while (last < ModelGrid.BinCount - 1 && ModelGrid.BinLowerKeV(last + 1) < clippedUpper)
        {
            last++;
        }

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

    /// <summary>Returns the nearest model-grid edge when <paramref name="energyKeV"/> is within <see cref="SnapToleranceKeV"/> of it.</summary>
    private static double SnapToGrid(double energyKeV)
    {
        var index = Math.Round((energyKeV - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV);
        var edge = ModelGrid.BinLowerKeV((int)Math.Clamp(index, -1, ModelGrid.BinCount + 1));
        return Math.Abs(energyKeV - edge) < SnapToleranceKeV ? edge : energyKeV;
    }
}

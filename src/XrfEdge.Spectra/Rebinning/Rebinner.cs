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

    private const double InverseBinWidth = 1 / ModelGrid.BinWidthKeV;

    /// <summary>Rebins <paramref name="spectrum"/> to a new array.</summary>
    /// <exception cref="ArgumentException">The calibration is not usable for the spectrum's channel count.</exception>
    public static RebinResult Rebin(RawSpectrum spectrum)
    {
        ThrowIfUnusable(spectrum);
        var target = new double[ModelGrid.BinCount];
        var outside = Rebin(spectrum.Counts, spectrum.Calibration, target);
        return new RebinResult(target, outside, spectrum.TotalCounts);
    }

    /// <summary>
    /// Throws unless <paramref name="spectrum"/>'s calibration is usable for its channel count
    /// (<see cref="EnergyCalibration.Validate"/>), with a message naming the spectrum, its calibration and what is wrong:
    /// the span overloads know neither, and an error from a batch of 256 must say which spectrum to look at.
    /// </summary>
    /// <exception cref="ArgumentException">The calibration is not usable.</exception>
    public static void ThrowIfUnusable(RawSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        if (spectrum.Calibration.Validate(spectrum.Counts.Length) is { } problem)
        {
            throw new ArgumentException($"spectrum '{spectrum.Id}': unusable energy calibration ({spectrum.Calibration}, {spectrum.Counts.Length} channels): {problem}", nameof(spectrum));
        }
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

        // An edge a rounding error away from a grid edge (0.05 + 0.1·(c + ½) vs 0.1·(c + 1)) is that grid edge: otherwise a
        // 1e-16 sliver of each channel leaks into the neighbouring bin and a spectrum already on the grid does not map to
        // itself. Each edge is computed and snapped once; it is the upper edge of one channel and the lower of the next.
        var rawLower = calibration.LowerEdgeKeV(0);
        var lower = SnapToGrid(rawLower);

        // Edges increase with the channel, so the bin holding the lower edge only moves up: one pass over channels and bins.
        var bin = 0;
        for (var channel = 0; channel < counts.Length; channel++)
        {
            var rawUpper = calibration.EnergyKeV(channel + 0.5);
            var upper = SnapToGrid(rawUpper);
            var n = counts[channel];
            if (n != 0)
            {
                // A channel narrower than the snap tolerance would collapse: keep its exact edges.
                outside += upper > lower
                    ? Spread(n, lower, upper, target, ref bin)
                    : Spread(n, rawLower, rawUpper, target, ref bin);
            }

            rawLower = rawUpper;
            lower = upper;
        }

        return outside;
    }

    /// <summary>
    /// Adds <paramref name="n"/> counts spread uniformly over <c>[lowerKeV, upperKeV)</c>; returns the part outside the grid.
    /// <paramref name="bin"/> is a lower bound of the bin holding <paramref name="lowerKeV"/>, advanced in place.
    /// </summary>
    private static double Spread(long n, double lowerKeV, double upperKeV, Span<double> target, ref int bin)
    {
        var width = upperKeV - lowerKeV;
        var clippedLower = Math.Max(lowerKeV, ModelGrid.LowerKeV);
        var clippedUpper = Math.Min(upperKeV, ModelGrid.UpperKeV);
        if (clippedUpper <= clippedLower)
        {
            return n;
        }

        // Compare with the grid's own edges rather than dividing by 0.1 (0.30000000000000004 / 0.1 > 3).
        while (bin < ModelGrid.BinCount - 1 && ModelGrid.BinLowerKeV(bin + 1) <= clippedLower)
        {
            bin++;
        }

        if (ModelGrid.BinLowerKeV(bin + 1) >= clippedUpper)
        {
            // Wholly inside one bin (bins are [lower, upper)): n·(w/w) = n exactly when not clipped.
            var share = n * ((clippedUpper - clippedLower) / width);
            target[bin] += share;
            return n - share;
        }

        var perKeV = n / width;
        double inside = 0;
        for (var b = bin; b < ModelGrid.BinCount && ModelGrid.BinLowerKeV(b) < clippedUpper; b++)
        {
            var lo = Math.Max(clippedLower, ModelGrid.BinLowerKeV(b));
            var hi = Math.Min(clippedUpper, ModelGrid.BinLowerKeV(b + 1));
            if (hi > lo)
            {
                var share = perKeV * (hi - lo);
                target[b] += share;
                inside += share;
            }
        }

        // Whatever was not placed inside is outside: computing it as the difference keeps Σ exact.
        return n - inside;
    }

    /// <summary>Returns the nearest model-grid edge when <paramref name="energyKeV"/> is within <see cref="SnapToleranceKeV"/> of it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static double SnapToGrid(double energyKeV)
    {
        // Same arithmetic as ModelGrid.BinLowerKeV(k), so a snapped edge compares equal to the grid's edge.
        var edge = ModelGrid.LowerKeV + (Math.Round((energyKeV - ModelGrid.LowerKeV) * InverseBinWidth) * ModelGrid.BinWidthKeV);
        return Math.Abs(energyKeV - edge) < SnapToleranceKeV ? edge : energyKeV;
    }
}

using System.Numerics;
using System.Runtime.InteropServices;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Spectra.Rebinning;

/// <summary>
/// <see cref="Rebinner"/>'s fractional-overlap rule precomputed for one calibration and channel count, for the hot
/// path where every spectrum of an instrument shares its calibration. Per model bin it stores the contiguous run of
/// source channels lying wholly inside the bin (their counts are summed as integers, with SIMD) and the few edge
/// channels that straddle a bin boundary with their overlap shares. Output equals <see cref="Rebinner.Rebin(ReadOnlySpan{long}, EnergyCalibration, Span{double})"/>
/// up to floating-point summation order (relative 1e-12, tested); it is the same preprocessing, not another one.
/// Immutable and thread-safe.
/// </summary>
public sealed class RebinPlan
{
    private readonly int[] _fullStart;
    private readonly int[] _fullEnd;
    private readonly int[] _partialStart;
    private readonly int[] _partialChannel;
    private readonly double[] _partialShare;

    private RebinPlan(EnergyCalibration calibration, int channelCount, int[] fullStart, int[] fullEnd, int[] partialStart, int[] partialChannel, double[] partialShare)
    {
        Calibration = calibration;
        ChannelCount = channelCount;
        _fullStart = fullStart;
        _fullEnd = fullEnd;
        _partialStart = partialStart;
        _partialChannel = partialChannel;
        _partialShare = partialShare;
    }

    /// <summary>The calibration the plan was built for.</summary>
    public EnergyCalibration Calibration { get; }

    /// <summary>The channel count the plan was built for.</summary>
    public int ChannelCount { get; }

    /// <summary>Whether this plan applies to a spectrum with <paramref name="calibration"/> and <paramref name="channelCount"/> channels.</summary>
    public bool Matches(EnergyCalibration calibration, int channelCount) => channelCount == ChannelCount && Calibration.Equals(calibration);

    /// <summary>Builds the plan (cost about one <see cref="Rebinner"/> call plus small arrays).</summary>
    /// <exception cref="ArgumentException">The calibration is not usable for <paramref name="channelCount"/> channels.</exception>
    public static RebinPlan Create(EnergyCalibration calibration, int channelCount)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        var problem = calibration.Validate(channelCount);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(calibration));
        }

        var fullStart = new int[ModelGrid.BinCount];
        var fullEnd = new int[ModelGrid.BinCount];
        var partials = new List<(int Bin, int Channel, double Share)>();
        var lower = calibration.LowerEdgeKeV(0);
        for (var channel = 0; channel < channelCount; channel++)
        {
            var upper = calibration.EnergyKeV(channel + 0.5);
            var width = upper - lower;
            var clippedLower = Math.Max(lower, ModelGrid.LowerKeV);
            var clippedUpper = Math.Min(upper, ModelGrid.UpperKeV);
            if (clippedUpper > clippedLower)
            {
                // Same bin arithmetic as Rebinner.Spread.
                var first = Math.Clamp((int)Math.Floor((clippedLower - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV), 0, ModelGrid.BinCount - 1);
                var last = Math.Clamp((int)Math.Floor((clippedUpper - ModelGrid.LowerKeV) / ModelGrid.BinWidthKeV), 0, ModelGrid.BinCount - 1);
                if (first == last && clippedLower == lower && clippedUpper == upper)
                {
                    // Wholly inside one bin: Rebinner adds n·(width/width) = n exactly.
                    if (fullEnd[first] == fullStart[first])
                    {
                        fullStart[first] = channel;
                    }

                    fullEnd[first] = channel + 1;
                }
                else if (first == last)
                {
                    partials.Add((first, channel, (clippedUpper - clippedLower) / width));
                }
                else
                {
                    for (var bin = first; bin <= last; bin++)
                    {
                        var lo = Math.Max(clippedLower, ModelGrid.BinLowerKeV(bin));
                        var hi = Math.Min(clippedUpper, ModelGrid.BinLowerKeV(bin + 1));
                        if (hi > lo)
                        {
                            partials.Add((bin, channel, (hi - lo) / width));
                        }
                    }
                }
            }

            lower = upper;
        }

        partials.Sort(static (a, b) => a.Bin != b.Bin ? a.Bin.CompareTo(b.Bin) : a.Channel.CompareTo(b.Channel));
        var partialStart = new int[ModelGrid.BinCount + 1];
        foreach (var p in partials)
        {
            partialStart[p.Bin + 1]++;
        }

        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            partialStart[bin + 1] += partialStart[bin];
        }

        return new RebinPlan(calibration, channelCount, fullStart, fullEnd, partialStart,
            partials.Select(p => p.Channel).ToArray(), partials.Select(p => p.Share).ToArray());
    }

    /// <summary>Rebins <paramref name="counts"/> into <paramref name="destination"/> (300 float32 values, the ModelInput).</summary>
    /// <returns>The counts that fell outside 0–30 keV.</returns>
    /// <exception cref="ArgumentException">The channel count differs from the plan's, or the destination is not 300 long.</exception>
    public double Apply(ReadOnlySpan<long> counts, Span<float> destination)
    {
        if (counts.Length != ChannelCount)
        {
            throw new ArgumentException($"the plan is for {ChannelCount} channels, the spectrum has {counts.Length}", nameof(counts));
        }

        if (destination.Length != ModelGrid.BinCount)
        {
            throw new ArgumentException($"destination must have {ModelGrid.BinCount} bins, has {destination.Length}", nameof(destination));
        }

        var inside = 0.0;
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            double value = Sum(counts[_fullStart[bin].._fullEnd[bin]]);
            for (var k = _partialStart[bin]; k < _partialStart[bin + 1]; k++)
            {
                value += counts[_partialChannel[k]] * _partialShare[k];
            }

            destination[bin] = (float)value;
            inside += value;
        }

        return Sum(counts) - inside;
    }

    private static long Sum(ReadOnlySpan<long> values)
    {
        long total = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<long>.Count * 2)
        {
            var acc = Vector<long>.Zero;
            var vectors = MemoryMarshal.Cast<long, Vector<long>>(values);
            foreach (var v in vectors)
            {
                acc += v;
            }

            total = Vector.Sum(acc);
            i = vectors.Length * Vector<long>.Count;
        }

        for (; i < values.Length; i++)
        {
            total += values[i];
        }

        return total;
    }
}

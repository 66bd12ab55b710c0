using System.Numerics;
using System.Runtime.CompilerServices;
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
    // One record per model bin, read sequentially by Apply: 16 bytes, so four bins share a cache line.
    private readonly BinSpan[] _bins;
    private readonly int[] _partialChannel;
    private readonly double[] _partialShare;

    private RebinPlan(EnergyCalibration calibration, int channelCount, BinSpan[] bins, int[] partialChannel, double[] partialShare)
    {
        Calibration = calibration;
        ChannelCount = channelCount;
        _bins = bins;
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

        var bins = new BinSpan[ModelGrid.BinCount];
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            bins[bin] = new BinSpan(fullStart[bin], fullEnd[bin], partialStart[bin], partialStart[bin + 1]);
        }

        return new RebinPlan(calibration, channelCount, bins, partials.Select(p => p.Channel).ToArray(), partials.Select(p => p.Share).ToArray());
    }

    /// <summary>Rebins <paramref name="counts"/> into <paramref name="destination"/> (300 float32 values, the ModelInput).</summary>
    /// <returns>The counts that fell outside 0–30 keV.</returns>
    /// <exception cref="ArgumentException">The channel count differs from the plan's, or the destination is not 300 long.</exception>
    public double Apply(ReadOnlySpan<long> counts, Span<float> destination)
    {
        CheckLengths(counts, destination);
        ref var first = ref MemoryMarshal.GetReference(counts);
        var inside = 0.0;
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            var value = BinValue(ref first, bin);
            destination[bin] = (float)value;
            inside += value;
        }

        return Sum(counts) - inside;
    }

    /// <summary>Rebins <paramref name="counts"/> into <paramref name="destination"/> (300 values, before the float32 cast).</summary>
    /// <returns>The counts that fell outside 0–30 keV.</returns>
    /// <exception cref="ArgumentException">The channel count differs from the plan's, or the destination is not 300 long.</exception>
    public double Apply(ReadOnlySpan<long> counts, Span<double> destination)
    {
        CheckLengths(counts, destination);
        ref var first = ref MemoryMarshal.GetReference(counts);
        var inside = 0.0;
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            var value = BinValue(ref first, bin);
            destination[bin] = value;
            inside += value;
        }

        return Sum(counts) - inside;
    }

    private void CheckLengths<T>(ReadOnlySpan<long> counts, Span<T> destination)
    {
        if (counts.Length != ChannelCount)
        {
            throw new ArgumentException($"the plan is for {ChannelCount} channels, the spectrum has {counts.Length}", nameof(counts));
        }

        if (destination.Length != ModelGrid.BinCount)
        {
            throw new ArgumentException($"destination must have {ModelGrid.BinCount} bins, has {destination.Length}", nameof(destination));
        }
    }

    // The value of one bin: its whole channels summed as integers (exact, in any order), then the straddling channels'
    // shares in plan order, the same arithmetic as before. Unchecked reads are safe: Create only stores channel
    // indices below ChannelCount, and CheckLengths has verified counts has exactly ChannelCount elements. Unrolled by
    // four because a bin holds ~7 whole channels (2048 × 15 eV onto 0.1-keV bins): too few for a vector loop, enough
    // for a loop's overhead to cost as much as the adds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double BinValue(ref long counts, int bin)
    {
        var span = _bins[bin];
        long whole = 0;
        var channel = span.FullStart;
        for (; channel + 4 <= span.FullEnd; channel += 4)
        {
            whole += Unsafe.Add(ref counts, channel) + Unsafe.Add(ref counts, channel + 1) + Unsafe.Add(ref counts, channel + 2) + Unsafe.Add(ref counts, channel + 3);
        }

        for (; channel < span.FullEnd; channel++)
        {
            whole += Unsafe.Add(ref counts, channel);
        }

        double value = whole;
        for (var k = span.PartialStart; k < span.PartialEnd; k++)
        {
            value += Unsafe.Add(ref counts, _partialChannel[k]) * _partialShare[k];
        }

        return value;
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

    /// <summary>Bin <c>b</c>: whole channels [FullStart, FullEnd), straddling channels [PartialStart, PartialEnd) of the partial arrays.</summary>
    private readonly record struct BinSpan(int FullStart, int FullEnd, int PartialStart, int PartialEnd);
}

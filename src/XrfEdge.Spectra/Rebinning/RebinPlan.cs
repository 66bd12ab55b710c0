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
    // Lanes 0, 1, 2, … of a Vector<long>: lane i of a run's k-th vector is inside the run when i < length − k·lanes.
    private static readonly Vector<long> LaneIndices = CreateLaneIndices();

    // One record per model bin, read in order by Apply. Every bin is summed the same way, whatever its run length or
    // number of straddling channels, so that the loop has no data-dependent branch: branches taken 5, 6 or 7 times
    // at random (a bin's run length at 15 eV per channel) were mispredicted often enough to dominate the old loop.
    private readonly BinTaps[] _bins;
    private readonly int _vectorsPerRun;

    // The general form, for the rare plan whose bins have more than two straddling channels (not produced by a monotonic
    // calibration, kept so that Apply never depends on that property).
    private readonly int[] _partialStart;
    private readonly int[] _partialChannel;
    private readonly double[] _partialShare;

    private RebinPlan(EnergyCalibration calibration, int channelCount, BinTaps[] bins, int vectorsPerRun, int[] partialStart, int[] partialChannel, double[] partialShare)
    {
        Calibration = calibration;
        ChannelCount = channelCount;
        _bins = bins;
        _vectorsPerRun = vectorsPerRun;
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

        var partialChannel = partials.Select(p => p.Channel).ToArray();
        var partialShare = partials.Select(p => p.Share).ToArray();
        var longestRun = Enumerable.Range(0, ModelGrid.BinCount).Max(bin => fullEnd[bin] - fullStart[bin]);
        var vectorsPerRun = (longestRun + Vector<long>.Count - 1) / Vector<long>.Count;
        var bins = new BinTaps[ModelGrid.BinCount];
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            var (first, count) = (partialStart[bin], partialStart[bin + 1] - partialStart[bin]);
            // Unused straddler slots add 0 × counts[run start] = +0.0, which leaves the sum bit-for-bit unchanged.
            bins[bin] = new BinTaps(
                fullStart[bin],
                fullEnd[bin] - fullStart[bin],
                count > 0 ? partialChannel[first] : fullStart[bin],
                count > 1 ? partialChannel[first + 1] : fullStart[bin],
                count > 0 ? partialShare[first] : 0.0,
                count > 1 ? partialShare[first + 1] : 0.0,
                Vectorised: Vector.IsHardwareAccelerated && count <= 2 && fullStart[bin] + (vectorsPerRun * Vector<long>.Count) <= channelCount);
        }

        return new RebinPlan(calibration, channelCount, bins, vectorsPerRun, partialStart, partialChannel, partialShare);
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
    // shares in plan order, the same double operations as Rebinner's per-channel arithmetic up to summation order.
    // The whole-channel run is read as a fixed number of vectors per bin, lanes past the run masked to zero (the last
    // bins, whose vectors would reach past the spectrum, are summed one channel at a time). Unchecked reads are safe:
    // Create stores only channel indices below ChannelCount (and marks a bin vectorised only when its vectors end by
    // ChannelCount), and CheckLengths has verified that counts has exactly ChannelCount elements.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double BinValue(ref long counts, int bin)
    {
        ref readonly var taps = ref _bins[bin];
        long whole;
        if (taps.Vectorised)
        {
            var sum = Vector<long>.Zero;
            ref var run = ref Unsafe.Add(ref counts, taps.FullStart);
            for (var k = 0; k < _vectorsPerRun; k++)
            {
                var values = Unsafe.ReadUnaligned<Vector<long>>(ref Unsafe.As<long, byte>(ref Unsafe.Add(ref run, k * Vector<long>.Count)));
                sum += Vector.BitwiseAnd(values, Vector.LessThan(LaneIndices, new Vector<long>(taps.FullCount - (k * Vector<long>.Count))));
            }

            whole = Vector.Sum(sum);
            double value = whole;
            value += Unsafe.Add(ref counts, taps.Channel0) * taps.Share0;
            value += Unsafe.Add(ref counts, taps.Channel1) * taps.Share1;
            return value;
        }

        whole = 0;
        for (var channel = taps.FullStart; channel < taps.FullStart + taps.FullCount; channel++)
        {
            whole += Unsafe.Add(ref counts, channel);
        }

        double general = whole;
        for (var k = _partialStart[bin]; k < _partialStart[bin + 1]; k++)
        {
            general += Unsafe.Add(ref counts, _partialChannel[k]) * _partialShare[k];
        }

        return general;
    }

    private static Vector<long> CreateLaneIndices()
    {
        Span<long> lanes = stackalloc long[Vector<long>.Count];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = i;
        }

        return new Vector<long>(lanes);
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

    /// <summary>
    /// One bin: whole channels [FullStart, FullStart + FullCount) and up to two straddling channels with their shares
    /// (in channel order; an unused slot has share 0); <c>Vectorised</c> = summed by the branch-free vector form.
    /// </summary>
    private readonly record struct BinTaps(int FullStart, int FullCount, int Channel0, int Channel1, double Share0, double Share1, bool Vectorised);
}

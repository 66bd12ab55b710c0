using System.Diagnostics;
using System.Runtime;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference.Benchmarking;

/// <summary>
/// Times bare ORT (Run on pre-rebinned inputs) against the whole in-memory identification path on the same spectra
/// and batch size, in alternating rounds so that machine noise hits both alike. Used by <c>xrfedge bench</c>.
/// <para>
/// Definitions (docs/PERFORMANCE.md, "Inference"): <b>ratio</b> = path spectra/s ÷ bare spectra/s, each the total
/// spectra over the total wall time of its rounds; <b>added</b> = path p50 − bare p50 per call (wall time), and
/// <b>added CPU</b> = (path − bare) process CPU time per call, which machine contention inflates far less.
/// A third, instrumented loop times the path's stages (rebin, ORT run, decode) separately.
/// </para>
/// </summary>
public static class PathBenchmark
{
    // Rounds of bare, path and staged loops follow each other every ~3 × Slice, so that a change of machine load
    // (other processes starting and stopping) hits both sides alike; three long rounds let a load burst land on one.
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(25);

    // Tiered JIT: a method runs unoptimised (tier 0) until it has been called 30 times after 100 ms without new tier-0
    // compilations, then is recompiled in the background. Measuring before that timed tier-0 code (the cause of the
    // "int8 1 thread adds 31 µs" figure: that configuration ran first in the process). Warm-up therefore runs until
    // the JIT has compiled nothing for JitQuiet, bounded by twice the measured duration and at least MinimumWarmUpLimit
    // (later configurations reuse the compiled code, so only the first one waits long).
    private static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan MinimumWarmUpLimit = TimeSpan.FromSeconds(1);

    /// <summary>Measures one configuration for about <paramref name="duration"/> in total (after a warm-up).</summary>
    /// <param name="encoder">The encoder (its session's thread count is <paramref name="threads"/>).</param>
    /// <param name="threads">Intra-op threads of the session, recorded in the result.</param>
    /// <param name="batchSize">Spectra per call, usually 1–256.</param>
    /// <param name="spectra">Spectra to cycle through (all with one calibration, as an instrument's are).</param>
    /// <param name="duration">Total measured time, split over alternating rounds.</param>
    /// <param name="prePostParallelism">The path's <see cref="SpectrumIdentifier.PrePostParallelism"/> (1 = calling thread only; 0 = the session's thread count).</param>
    public static PathBenchmarkResult Measure(LineEncoder encoder, int threads, int batchSize, IReadOnlyList<RawSpectrum> spectra, TimeSpan duration, int prePostParallelism = 1)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(spectra);
        var chunk = Enumerable.Range(0, batchSize).Select(i => spectra[i % spectra.Count]).ToArray();
        var identifier = new SpectrumIdentifier(encoder, prePostParallelism: prePostParallelism);
        var results = new Identification[batchSize];
        using var batch = encoder.Rent(batchSize);
        Span<double> scratch = stackalloc double[ModelGrid.BinCount];
        for (var row = 0; row < batchSize; row++)
        {
            ModelInput.Fill(chunk[row], batch.InputRow(row), scratch);
        }

        void Bare() => batch.Run();
        void Path() => identifier.Identify(chunk, results);
        var stages = new StageSamples();
        void Staged() => stages.Add(batch, chunk, identifier, results);

        WarmUp(Bare, Path, Staged, duration * 2 > MinimumWarmUpLimit ? duration * 2 : MinimumWarmUpLimit);
        var rounds = Math.Max(3, (int)(duration / (3 * Slice)));
        var slice = duration / (3 * rounds);
        var bare = new List<long>(4096);
        var path = new List<long>(4096);
        long bareTicks = 0, pathTicks = 0;
        var bareCpu = TimeSpan.Zero;
        var pathCpu = TimeSpan.Zero;
        var pathGcPause = TimeSpan.Zero;
        long pathAllocated = 0, pathCollections = 0;
        for (var round = 0; round < rounds; round++)
        {
            var cpu0 = Environment.CpuUsage.TotalTime;
            bareTicks += Loop(slice, bare, Bare);
            var cpu1 = Environment.CpuUsage.TotalTime;
            var (allocated0, pause0, collections0) = (GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration(), GC.CollectionCount(0));
            pathTicks += Loop(slice, path, Path);
            var cpu2 = Environment.CpuUsage.TotalTime;
            pathAllocated += GC.GetTotalAllocatedBytes() - allocated0;
            pathGcPause += GC.GetTotalPauseDuration() - pause0;
            pathCollections += GC.CollectionCount(0) - collections0;
            bareCpu += cpu1 - cpu0;
            pathCpu += cpu2 - cpu1;
            Loop(slice, null, Staged);
        }

        return new PathBenchmarkResult(
            encoder.Identity.Precision,
            batchSize,
            threads,
            bare.Count * (double)batchSize / Seconds(bareTicks),
            path.Count * (double)batchSize / Seconds(pathTicks),
            Percentile(bare, 0.50),
            Percentile(path, 0.50),
            Percentile(path, 0.99))
        {
            PrePostWorkers = identifier.PrePostParallelism,
            BareCpuMicrosecondsPerCall = bareCpu.TotalMicroseconds / bare.Count,
            PathCpuMicrosecondsPerCall = pathCpu.TotalMicroseconds / path.Count,
            PathAllocatedBytesPerCall = (double)pathAllocated / path.Count,
            PathGcPauseMicrosecondsPerCall = pathGcPause.TotalMicroseconds / path.Count,
            PathCollectionsPerCall = (double)pathCollections / path.Count,
            RebinP50Microseconds = Percentile(stages.Rebin, 0.50),
            RunInPathP50Microseconds = Percentile(stages.Run, 0.50),
            DecodeP50Microseconds = Percentile(stages.Decode, 0.50),
        };
    }

    private static void WarmUp(Action bare, Action path, Action staged, TimeSpan limit)
    {
        var start = Stopwatch.GetTimestamp();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = start;
        for (var calls = 0; ; calls++)
        {
            bare();
            path();
            staged();
            var now = Stopwatch.GetTimestamp();
            var count = JitInfo.GetCompiledMethodCount();
            if (count != compiled)
            {
                compiled = count;
                quietSince = now;
            }

            if ((calls >= 3 && Stopwatch.GetElapsedTime(quietSince, now) >= JitQuiet) || Stopwatch.GetElapsedTime(start, now) >= limit)
            {
                return;
            }
        }
    }

    private static long Loop(TimeSpan slice, List<long>? samples, Action action)
    {
        var end = Stopwatch.GetTimestamp() + (long)(slice.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        long now;
        do
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            now = Stopwatch.GetTimestamp();
            samples?.Add(now - t0);
        }
        while (now < end);
        return now - start;
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static double Percentile(List<long> samples, double q)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.ToArray();
        Array.Sort(sorted);
        var index = Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1e6 / Stopwatch.Frequency;
    }

    /// <summary>The path's three stages, run by <see cref="SpectrumIdentifier"/>'s own code with a timestamp between each.</summary>
    private sealed class StageSamples
    {
        public List<long> Rebin { get; } = new(4096);

        public List<long> Run { get; } = new(4096);

        public List<long> Decode { get; } = new(4096);

        public void Add(EncoderBatch batch, RawSpectrum[] chunk, SpectrumIdentifier identifier, Identification[] results)
        {
            var counts = new InputCounts?[chunk.Length];
            var t0 = Stopwatch.GetTimestamp();
            identifier.RebinRows(chunk, 0, batch, chunk.Length, counts);
            var t1 = Stopwatch.GetTimestamp();
            batch.Run();
            var t2 = Stopwatch.GetTimestamp();
            identifier.DecodeRows(chunk, 0, batch, chunk.Length, counts, results);
            var t3 = Stopwatch.GetTimestamp();
            Rebin.Add(t1 - t0);
            Run.Add(t2 - t1);
            Decode.Add(t3 - t2);
        }
    }
}

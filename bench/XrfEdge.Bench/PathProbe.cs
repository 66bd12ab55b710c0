using System.Globalization;
using XrfEdge.Inference;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Inference.Native;

namespace XrfEdge.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/XrfEdge.Bench -- path PRECISION BATCH THREADS SECONDS [PREPOST]</c>: one
/// <see cref="PathBenchmark"/> configuration, measured longer than <c>xrfedge bench</c> does, with its stage breakdown;
/// for profiling one cell of the bench table without timing the other eleven.
/// </summary>
internal static class PathProbe
{
    public static int Run(string[] args)
    {
        var precision = args.Length > 1 ? args[1] : "int8";
        var batch = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        var threads = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1;
        var seconds = args.Length > 4 ? double.Parse(args[4], CultureInfo.InvariantCulture) : 3;
        var prePost = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 1;
        using var encoder = LineEncoder.Open(BenchModels.Path(precision), new LineEncoderOptions { Session = new OnnxSessionOptions { IntraOpThreads = threads } });
        var spectra = BenchmarkSpectra.Create(SpectrumIdentifier.MaxBatchSize);
        var r = PathBenchmark.Measure(encoder, threads, batch, spectra, TimeSpan.FromSeconds(seconds), prePost);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Precision} batch {r.Batch} threads {r.Threads}: ratio {r.Ratio:F3}, CPU ratio {r.CpuRatio:F3} (bare {r.BareOrtSpectraPerSecond:F0}/s, path {r.PathSpectraPerSecond:F0}/s); p50 bare {r.BareP50Microseconds:F1} path {r.PathP50Microseconds:F1} added {r.AddedP50Microseconds:F1} µs; CPU/call bare {r.BareCpuMicrosecondsPerCall:F1} path {r.PathCpuMicrosecondsPerCall:F1} added {r.AddedCpuMicrosecondsPerCall:F1} µs; stages p50 rebin {r.RebinP50Microseconds:F1} run {r.RunInPathP50Microseconds:F1} decode {r.DecodeP50Microseconds:F1} µs; per call {r.PathAllocatedBytesPerCall:F0} B allocated, GC pause {r.PathGcPauseMicrosecondsPerCall:F1} µs, {r.PathCollectionsPerCall:F3} gen0 GCs"));
        return 0;
    }
}

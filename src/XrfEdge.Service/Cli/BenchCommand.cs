using System.CommandLine;
using System.Globalization;
using XrfEdge.Inference;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Inference.Native;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge bench [--quick] [--json] [--model FILE]</c>: in one process, times the bare ORT session and the whole
/// in-memory identify path on the same spectra and batch sizes (1, 32, 256), int8 and fp32, 1 and 2 intra-op
/// threads; prints spectra/s of each, their ratio, path latency percentiles and the process RSS.
/// </summary>
internal static class BenchCommand
{
    private static readonly int[] Batches = [1, 32, 256];
    private static readonly int[] ThreadCounts = [1, 2];

    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Short timing windows (finishes in under 30 s); numbers are noisier" };
        var json = new Option<bool>("--json") { Description = "Print {\"results\":[…],\"rss_mb\":…} instead of a table" };
        var model = InferenceCli.ModelOption();
        var command = new Command("bench", "Time bare ONNX Runtime against the whole in-memory identify path (int8/fp32, batch 1/32/256, 1/2 threads)")
        {
            quick, json, model,
        };
        // SIGINT/SIGTERM stop it between measurements and print those finished (exit 130); until 2026-11-24 the runtime
        // killed it and every measurement taken so far was lost.
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(
            token => Task.FromResult(Run(parse.GetValue(model), parse.GetValue(quick), parse.GetValue(json), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, token)),
            ct));
        return command;
    }

    internal static int Run(string? modelGiven, bool quick, bool asJson, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var modelPath = InferenceCli.ResolveModel(modelGiven, error);
        if (modelPath is null)
        {
            return InferenceCli.ExitUnusable;
        }

        var models = new List<string> { Path.GetFullPath(modelPath) };
        using var loggers = InferenceCli.StderrLoggerFactory();
        var logger = loggers.CreateLogger("XrfEdge.Inference");
        using (var probe = InferenceCli.TryOpen(modelPath, logger, error))
        {
            if (probe is null)
            {
                return InferenceCli.ExitUnusable;
            }

            // The sibling precision named by the card (int8 ↔ fp32), when its file is there.
            foreach (var (precision, entry) in probe.Card.Files)
            {
                var sibling = Path.Combine(Path.GetDirectoryName(probe.ModelPath)!, entry.Path);
                if (precision != probe.Identity.Precision && File.Exists(sibling))
                {
                    models.Add(sibling);
                }
            }
        }

        var duration = TimeSpan.FromSeconds(quick ? 0.25 : 1.5);
        var spectra = BenchmarkSpectra.Create(SpectrumIdentifier.MaxBatchSize);
        var results = new List<PathBenchmarkResult>();
        var encoders = new List<LineEncoder>();
        var firstSessionRssMb = 0.0;
        try
        {
            var planned = PlannedMeasurements(models.Count);
            foreach (var path in models)
            {
                foreach (var threads in ThreadCounts)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }

                    var encoder = InferenceCli.TryOpen(path, logger, error, new OnnxSessionOptions { IntraOpThreads = threads });
                    if (encoder is null)
                    {
                        return InferenceCli.ExitUnusable;
                    }

                    encoders.Add(encoder);
                    if (encoders.Count == 1)
                    {
                        // Runtime + one session (the service's steady state), before any benchmark buffers exist.
                        firstSessionRssMb = Environment.WorkingSet / (1024.0 * 1024.0);
                    }

                    foreach (var batch in Batches)
                    {
                        foreach (var prePost in Workers(threads, batch))
                        {
                            if (cancellationToken.IsCancellationRequested)
                            {
                                break;
                            }

                            results.Add(PathBenchmark.Measure(encoder, threads, batch, spectra, duration, prePost));
                            if (!asJson)
                            {
                                error.Write('.');
                            }
                        }
                    }
                }
            }

            // Every benchmarked session is still loaded here: the RSS of the process at its largest.
            var rssMb = Environment.WorkingSet / (1024.0 * 1024.0);
            // Interrupted when measurements were left undone: a signal during the last one (it runs to its end) used to
            // report "interrupted after N of N" with exit 130 and, with --json, drop the document of a whole run.
            if (cancellationToken.IsCancellationRequested && results.Count < planned)
            {
                // The finished rows are worth having as a table; a JSON document would pass for a whole run, so none.
                error.WriteLine();
                if (!asJson)
                {
                    WriteTable(output, results, quick, encoders.Count, rssMb, firstSessionRssMb);
                }

                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge bench: interrupted after {results.Count} of {planned} measurements{(asJson ? "; no JSON written (it would pass for a whole run)" : "; the table holds those finished")}"));
                return SynthCommand.InterruptedExitCode;
            }

            if (asJson)
            {
                InferenceCli.PrintJson(output, w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("results");
                    foreach (var r in results)
                    {
                        w.WriteStartObject();
                        w.WriteString("precision", r.Precision);
                        w.WriteNumber("batch", r.Batch);
                        w.WriteNumber("threads", r.Threads);
                        w.WriteNumber("pre_post_workers", r.PrePostWorkers);
                        w.WriteNumber("bare_ort_spectra_per_s", Math.Round(r.BareOrtSpectraPerSecond, 1));
                        w.WriteNumber("path_spectra_per_s", Math.Round(r.PathSpectraPerSecond, 1));
                        w.WriteNumber("ratio", Math.Round(r.Ratio, 4));
                        w.WriteNumber("bare_p50_us", Math.Round(r.BareP50Microseconds, 2));
                        w.WriteNumber("path_p50_us", Math.Round(r.PathP50Microseconds, 2));
                        w.WriteNumber("path_p99_us", Math.Round(r.PathP99Microseconds, 2));
                        w.WriteNumber("added_p50_us", Math.Round(r.AddedP50Microseconds, 2));
                        w.WriteNumber("cpu_ratio", Math.Round(r.CpuRatio, 4));
                        w.WriteNumber("bare_cpu_us", Math.Round(r.BareCpuMicrosecondsPerCall, 2));
                        w.WriteNumber("path_cpu_us", Math.Round(r.PathCpuMicrosecondsPerCall, 2));
                        w.WriteNumber("added_cpu_us", Math.Round(r.AddedCpuMicrosecondsPerCall, 2));
                        w.WriteNumber("stage_rebin_p50_us", Math.Round(r.RebinP50Microseconds, 2));
                        w.WriteNumber("stage_run_p50_us", Math.Round(r.RunInPathP50Microseconds, 2));
                        w.WriteNumber("stage_decode_p50_us", Math.Round(r.DecodeP50Microseconds, 2));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteNumber("rss_mb", Math.Round(rssMb, 1));
                    w.WriteNumber("rss_one_session_mb", Math.Round(firstSessionRssMb, 1));
                    w.WriteNumber("sessions_loaded", encoders.Count);
                    w.WriteString("onnxruntime", OnnxRuntime.Version);
                    w.WriteNumber("processor_count", Environment.ProcessorCount);
                    w.WriteEndObject();
                });
            }
            else
            {
                error.WriteLine();
                WriteTable(output, results, quick, encoders.Count, rssMb, firstSessionRssMb);
            }

            return 0;
        }
        finally
        {
            foreach (var encoder in encoders)
            {
                encoder.Dispose();
            }
        }
    }

    /// <summary>How many measurements a run over <paramref name="models"/> model files takes (one per thread count, batch and worker count).</summary>
    internal static int PlannedMeasurements(int models) =>
        models * ThreadCounts.Sum(threads => Batches.Sum(batch => Workers(threads, batch).Length));

    /// <summary>The pre/post worker counts timed for a thread count and batch size.</summary>
    private static int[] Workers(int threads, int batch) =>
        // With 2 intra-op threads ORT uses both cores; the path's rebin/decode is timed on the calling thread alone and
        // also spread over the same number of workers (SpectrumIdentifier prePostParallelism).
        threads > 1 && batch >= SpectrumIdentifier.ParallelFromBatchSize ? [1, threads] : [1];

    /// <summary>The text report: one row per measurement, then the process RSS.</summary>
    private static void WriteTable(TextWriter output, List<PathBenchmarkResult> results, bool quick, int sessions, double rssMb, double firstSessionRssMb)
    {
        output.WriteLine($"ONNX Runtime {OnnxRuntime.Version}; {BenchmarkSpectra.Channels}-channel spectra; {(quick ? "quick" : "full")} timing; {Environment.ProcessorCount} CPUs");
        output.WriteLine("precision batch threads workers  bare ORT sp/s   path sp/s  ratio  CPU ratio  bare p50 µs  path p50 µs  path p99 µs  added µs  added CPU µs | stages p50 µs: rebin     run  decode");
        foreach (var r in results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Precision,-9} {r.Batch,5} {r.Threads,7} {r.PrePostWorkers,7}  {r.BareOrtSpectraPerSecond,12:F0}  {r.PathSpectraPerSecond,10:F0}  {r.Ratio,5:F3}  {r.CpuRatio,9:F3}  {r.BareP50Microseconds,11:F1}  {r.PathP50Microseconds,11:F1}  {r.PathP99Microseconds,11:F1}  {r.AddedP50Microseconds,8:F1}  {r.AddedCpuMicrosecondsPerCall,12:F1} | {r.RebinP50Microseconds,20:F1} {r.RunInPathP50Microseconds,7:F1} {r.DecodeP50Microseconds,7:F1}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"process RSS with {sessions} sessions loaded: {rssMb:F1} MB; with the first session only: {firstSessionRssMb:F1} MB"));
    }
}

namespace XrfEdge.Inference.Benchmarking;

/// <summary>One bench configuration: bare ORT vs the whole in-memory path on the same spectra and batch size.</summary>
/// <param name="Precision">"int8" or "fp32".</param>
/// <param name="Batch">Spectra per call.</param>
/// <param name="Threads">Intra-op threads of the session.</param>
/// <param name="BareOrtSpectraPerSecond">Throughput of Run alone on pre-rebinned inputs (the ceiling).</param>
/// <param name="PathSpectraPerSecond">Throughput of RawSpectrum → Identification (rebin, encode, decode).</param>
/// <param name="BareP50Microseconds">Median time of one bare Run call.</param>
/// <param name="PathP50Microseconds">Median time of one path call (one batch).</param>
/// <param name="PathP99Microseconds">99th percentile of one path call.</param>
public sealed record PathBenchmarkResult(
    string Precision,
    int Batch,
    int Threads,
    double BareOrtSpectraPerSecond,
    double PathSpectraPerSecond,
    double BareP50Microseconds,
    double PathP50Microseconds,
    double PathP99Microseconds)
{
    /// <summary>Path throughput / bare-ORT throughput (target ≥ 0.8 at batch 256).</summary>
    public double Ratio => PathSpectraPerSecond / BareOrtSpectraPerSecond;

    /// <summary>Median wall time the path adds to a bare Run call, µs: path p50 − bare p50 (target ≤ 10 at batch 1).</summary>
    public double AddedP50Microseconds => PathP50Microseconds - BareP50Microseconds;

    /// <summary>Workers that rebinned and decoded the path's batch (<see cref="SpectrumIdentifier.PrePostParallelism"/>).</summary>
    public int PrePostWorkers { get; init; } = 1;

    /// <summary>Process CPU time per bare Run call, µs (all threads, including ORT's intra-op workers while they spin).</summary>
    public double BareCpuMicrosecondsPerCall { get; init; } = double.NaN;

    /// <summary>Process CPU time per path call, µs.</summary>
    public double PathCpuMicrosecondsPerCall { get; init; } = double.NaN;

    /// <summary>
    /// Bare CPU time ÷ path CPU time per call: the throughput ratio a machine with nothing else running would show for a
    /// 1-thread session (time spent descheduled by other processes is not CPU time). With 2 threads it also counts ORT's
    /// spinning workers, so read it together with <see cref="Ratio"/>.
    /// </summary>
    public double CpuRatio => BareCpuMicrosecondsPerCall / PathCpuMicrosecondsPerCall;

    /// <summary>CPU time the path adds per call, µs: less sensitive to other processes than <see cref="AddedP50Microseconds"/>.</summary>
    public double AddedCpuMicrosecondsPerCall => PathCpuMicrosecondsPerCall - BareCpuMicrosecondsPerCall;

    /// <summary>Managed bytes allocated per path call (all threads): the Identifications themselves plus any overhead.</summary>
    public double PathAllocatedBytesPerCall { get; init; } = double.NaN;

    /// <summary>Garbage-collection pause time per path call, µs (included in the path's times).</summary>
    public double PathGcPauseMicrosecondsPerCall { get; init; } = double.NaN;

    /// <summary>Generation-0 collections per path call.</summary>
    public double PathCollectionsPerCall { get; init; } = double.NaN;

    /// <summary>Median time to rebin one batch (all rows) in the instrumented path loop, µs.</summary>
    public double RebinP50Microseconds { get; init; } = double.NaN;

    /// <summary>Median time of the ORT run inside the instrumented path loop, µs (compare with <see cref="BareP50Microseconds"/>).</summary>
    public double RunInPathP50Microseconds { get; init; } = double.NaN;

    /// <summary>Median time to decode one batch (all rows) in the instrumented path loop, µs.</summary>
    public double DecodeP50Microseconds { get; init; } = double.NaN;
}

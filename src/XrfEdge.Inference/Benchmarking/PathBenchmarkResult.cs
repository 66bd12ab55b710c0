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

    /// <summary>Median time the path adds to a bare Run call, µs (target ≤ 10 at batch 1).</summary>
    public double AddedP50Microseconds => PathP50Microseconds - BareP50Microseconds;
}

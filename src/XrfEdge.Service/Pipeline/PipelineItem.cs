namespace XrfEdge.Service.Pipeline;

/// <summary>
/// What travels from acquisition to analysis and on to publishing, in order: a spectrum to analyse, a result that
/// needs no analysis (aborted/failed), or the end of a scan. Keeping them in one ordered channel means a scan's
/// summary is written after its last point.
/// </summary>
internal abstract record PipelineItem
{
    /// <summary>A spectrum to identify.</summary>
    public sealed record Spectrum(AcquiredSpectrum Acquired) : PipelineItem;

    /// <summary>A finished result (aborted or failed acquisitions skip analysis).</summary>
    public sealed record Result(MeasurementResult Measurement) : PipelineItem;

    /// <summary>The end of a scan.</summary>
    public sealed record ScanEnded(string ScanId, DateTimeOffset Started, DateTimeOffset Ended, long Points, bool Aborted) : PipelineItem;
}

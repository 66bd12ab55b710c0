using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>A finished acquisition on its way to analysis (the acquisition → analysis channel's item).</summary>
internal sealed record AcquiredSpectrum(
    string MeasurementId,
    Options.MeasurementMode Mode,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    RawSpectrum Spectrum,
    string? ScanId,
    long? ScanIndex,
    long EndTimestamp);

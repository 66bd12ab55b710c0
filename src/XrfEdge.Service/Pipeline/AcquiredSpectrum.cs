using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>A finished acquisition on its way to analysis (the acquisition → analysis channel's item).</summary>
/// <param name="MeasurementId">Unique id (time-ordered).</param>
/// <param name="Mode">Acquisition:Mode it was measured in.</param>
/// <param name="Started">Wall-clock start of the acquisition (UTC).</param>
/// <param name="Ended">Wall-clock end of the acquisition (UTC).</param>
/// <param name="Spectrum">The spectrum as acquired (calibration override applied).</param>
/// <param name="ScanId">Scan it belongs to (scan mode), or null.</param>
/// <param name="ScanIndex">Point index within the scan (0-based), or null.</param>
/// <param name="EndTimestamp"><see cref="TimeProvider.GetTimestamp"/> at the end, for the pipeline latency.</param>
/// <param name="Preset">The preset this acquisition was run with (the scan dwell in scan mode).</param>
/// <param name="Request">The start request it answers (its sample id, its reply).</param>
internal sealed record AcquiredSpectrum(
    string MeasurementId,
    Options.MeasurementMode Mode,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    RawSpectrum Spectrum,
    string? ScanId,
    long? ScanIndex,
    long EndTimestamp,
    TimeSpan Preset,
    Hosting.StartRequest Request);

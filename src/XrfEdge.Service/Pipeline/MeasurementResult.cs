using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>The outcome of one measurement, as stored in the outbox.</summary>
/// <param name="MeasurementId">Unique id (UUIDv7-like, time-ordered).</param>
/// <param name="Mode">Triggered, Continuous or Scan.</param>
/// <param name="Started">Wall-clock start of the acquisition (UTC).</param>
/// <param name="Ended">Wall-clock end of the acquisition (UTC).</param>
/// <param name="Spectrum">The spectrum (null when the acquisition failed before any data).</param>
/// <param name="Identification">The identification (null when aborted or failed).</param>
/// <param name="Outcome">completed, aborted or failed.</param>
/// <param name="Reason">Why it was aborted or failed (interlock opened, service stopping, MCA timeout …).</param>
/// <param name="ScanId">Scan the spectrum belongs to (scan mode).</param>
/// <param name="ScanIndex">Point index within the scan (0-based).</param>
/// <param name="Preset">The preset the acquisition was run with, or null when unknown.</param>
/// <param name="Request">The start request this measurement answers (sample id, reply), or null.</param>
internal sealed record MeasurementResult(
    string MeasurementId,
    Options.MeasurementMode Mode,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    RawSpectrum? Spectrum,
    Identification? Identification,
    MeasurementOutcome Outcome,
    string? Reason = null,
    string? ScanId = null,
    long? ScanIndex = null,
    TimeSpan? Preset = null,
    Hosting.StartRequest? Request = null);

using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Payloads;

/// <summary>Everything published about one measurement: the raw spectrum, its identification and acquisition context.</summary>
public sealed record MeasurementResult
{
    /// <summary>Unique measurement id ([A-Za-z0-9_-], e.g. "M-2026-000123"); also the spectrum topic level.</summary>
    public required string MeasurementId { get; init; }

    /// <summary>The raw spectrum as acquired.</summary>
    public required RawSpectrum Spectrum { get; init; }

    /// <summary>The model's identification of it.</summary>
    public required Identification Identification { get; init; }

    /// <summary>Acquisition start, UTC.</summary>
    public DateTimeOffset? AcquisitionStart { get; init; }

    /// <summary>Acquisition end, UTC.</summary>
    public DateTimeOffset? AcquisitionEnd { get; init; }

    /// <summary>Preset (requested) measurement time.</summary>
    public TimeSpan? Preset { get; init; }

    /// <summary>Measurement mode, e.g. "alloy", "soil", "mining".</summary>
    public string? Mode { get; init; }

    /// <summary>Operator's sample id.</summary>
    public string? SampleId { get; init; }

    /// <summary>Primary-beam filter, e.g. "Al", "Cu", or null.</summary>
    public string? Filter { get; init; }

    /// <summary>
    /// Analysed after the fact: the measurement was stored and published as incomplete (measured while no model was
    /// loaded), and this identification replaces its stored event. Published as <c>"reanalysed": true</c>.
    /// </summary>
    public bool Reanalysed { get; init; }
}

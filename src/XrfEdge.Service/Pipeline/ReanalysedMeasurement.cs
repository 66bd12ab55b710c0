using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>A measurement stored without analysis (no model was loaded) and analysed later (<see cref="ReanalysisWorker"/>).</summary>
/// <param name="MeasurementId">Its id, unchanged.</param>
/// <param name="Spectrum">The stored spectrum.</param>
/// <param name="Identification">The analysis done now.</param>
/// <param name="Started">Acquisition start, from its stored event.</param>
/// <param name="Ended">Acquisition end, from its stored event.</param>
/// <param name="Preset">The preset it ran with, when its event says.</param>
/// <param name="SampleId">The operator's sample id, when its event says.</param>
internal sealed record ReanalysedMeasurement(
    string MeasurementId,
    RawSpectrum Spectrum,
    Identification Identification,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    TimeSpan? Preset,
    string? SampleId);

using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// A scan point whose analysis failed (no model loaded, or ONNX Runtime failed), stored with its chunk and analysed
/// later (<see cref="ReanalysisWorker"/>); published again in a <c>scans/points</c> chunk with <c>"reanalysed": true</c>.
/// </summary>
/// <param name="MeasurementId">The point's measurement id, unchanged.</param>
/// <param name="ScanId">The scan it belongs to, from its stored event.</param>
/// <param name="ScanIndex">Its index in the scan (0-based), from its stored event.</param>
/// <param name="Spectrum">The stored spectrum.</param>
/// <param name="Identification">The analysis done now.</param>
internal sealed record ReanalysedScanPoint(
    string MeasurementId,
    string ScanId,
    long ScanIndex,
    RawSpectrum Spectrum,
    Identification Identification);

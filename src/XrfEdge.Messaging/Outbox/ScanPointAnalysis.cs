namespace XrfEdge.Messaging.Outbox;

/// <summary>
/// The later analysis of a stored <see cref="IncompleteScanPoint"/> (<see cref="SqliteOutbox.ReplaceIncompleteScanPoints"/>):
/// it replaces the point's stored event, and its spectrum stays.
/// </summary>
/// <param name="MeasurementId">The point's measurement id.</param>
/// <param name="Result">The JSON stored in place of its event (the point as re-published, <c>xrf.scan-points/1</c>).</param>
public sealed record ScanPointAnalysis(string MeasurementId, byte[] Result);

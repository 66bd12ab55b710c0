namespace XrfEdge.Messaging.Outbox;

/// <summary>
/// A scan point whose analysis failed, stored with its spectrum in the transaction of its <c>scans/points</c> chunk
/// (<see cref="SqliteOutbox.EnqueueScanChunk"/>) so that it can be analysed later; a results row like an incomplete
/// measurement's.
/// </summary>
/// <param name="MeasurementId">The point's own measurement id (published in the chunk, so <c>get_spectrum</c> finds it).</param>
/// <param name="Event">Its <c>xrf.measurement-event/1</c> JSON with <c>scan_id</c> and <c>scan_index</c>; stored, never published.</param>
/// <param name="Spectrum">Its spectrum as <c>xrfedge.Spectrum</c> protobuf.</param>
public sealed record IncompleteScanPoint(string MeasurementId, byte[] Event, byte[] Spectrum);

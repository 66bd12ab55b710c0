namespace XrfEdge.Messaging.Outbox;

/// <summary>The local record of one measurement, committed with its outbox row.</summary>
/// <param name="MeasurementId">Unique measurement id, e.g. "M-2026-000123".</param>
/// <param name="Spectrum">Raw spectrum as <c>xrfedge.Spectrum</c> protobuf (for <c>get_spectrum</c>), or null.</param>
/// <param name="ReplacesIncomplete">
/// The measurement is stored already as incomplete (<see cref="SqliteOutbox.EnqueueIncompleteMeasurement"/>: its event
/// and spectrum) and this is its analysis, done later: the stored event row is replaced by this result in the same
/// transaction. A stored completed result with the same id is never replaced (the insert then fails).
/// </param>
public sealed record MeasurementRecord(string MeasurementId, byte[]? Spectrum, bool ReplacesIncomplete = false);

/// <summary>A stored measurement that did not complete, with its spectrum (<see cref="SqliteOutbox.ReadIncompleteMeasurements"/>).</summary>
/// <param name="RowId">Its row in the results table (insertion order); read on after it.</param>
/// <param name="MeasurementId">The measurement id.</param>
/// <param name="Event">Its <c>xrf.measurement-event/1</c> JSON, as published.</param>
/// <param name="Spectrum">Its spectrum as <c>xrfedge.Spectrum</c> protobuf.</param>
public sealed record StoredIncompleteMeasurement(long RowId, string MeasurementId, byte[] Event, byte[] Spectrum);

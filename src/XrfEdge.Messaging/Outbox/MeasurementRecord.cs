namespace XrfEdge.Messaging.Outbox;

/// <summary>The local record of one measurement, committed with its outbox row.</summary>
/// <param name="MeasurementId">Unique measurement id, e.g. "M-2026-000123".</param>
/// <param name="Spectrum">Raw spectrum as <c>xrfedge.Spectrum</c> protobuf (for <c>get_spectrum</c>), or null.</param>
public sealed record MeasurementRecord(string MeasurementId, byte[]? Spectrum);

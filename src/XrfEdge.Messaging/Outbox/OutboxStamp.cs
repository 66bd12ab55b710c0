namespace XrfEdge.Messaging.Outbox;

/// <summary>Identity the outbox assigns inside the enqueue transaction, for the payload builder to embed.</summary>
/// <param name="Seq">Per-device sequence number: grows by one per measurement, survives restarts (stored in the same database).</param>
/// <param name="MsgId">UUIDv7 message id for consumer de-duplication.</param>
/// <param name="CreatedUtc">Enqueue time.</param>
public sealed record OutboxStamp(long Seq, Guid MsgId, DateTimeOffset CreatedUtc);

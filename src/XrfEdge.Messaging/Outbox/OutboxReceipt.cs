namespace XrfEdge.Messaging.Outbox;

/// <summary>What was committed.</summary>
/// <param name="RowId">Outbox row id.</param>
/// <param name="Stamp">Seq (0 for non-measurement rows), message id and time.</param>
/// <param name="Evicted">Rows evicted to make room (0 normally).</param>
public sealed record OutboxReceipt(long RowId, OutboxStamp Stamp, int Evicted);

namespace XrfEdge.Messaging.Outbox;

/// <summary>Outbox figures published in <c>health</c>.</summary>
/// <param name="Depth">Rows waiting.</param>
/// <param name="Bytes">Payload bytes waiting.</param>
/// <param name="OldestAge">Age of the oldest waiting row; zero when empty.</param>
/// <param name="EvictedTotal">Rows evicted (cap or age) since the database was created; never silent.</param>
/// <param name="DeadLettered">Rows moved to the dead-letter table after repeated refusals.</param>
/// <param name="RefusedTotal">New rows refused (disk full / cap under RejectNew) since start.</param>
/// <param name="LastSeq">Last assigned measurement seq.</param>
/// <param name="RecoveredFromCorruption">Set when the database failed its integrity check at start and was moved aside: the file it was moved to.</param>
public sealed record OutboxStatistics(long Depth, long Bytes, TimeSpan OldestAge, long EvictedTotal, long DeadLettered, long RefusedTotal, long LastSeq, string? RecoveredFromCorruption);

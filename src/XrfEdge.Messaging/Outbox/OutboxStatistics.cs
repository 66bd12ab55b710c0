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
public sealed record OutboxStatistics(long Depth, long Bytes, TimeSpan OldestAge, long EvictedTotal, long DeadLettered, long RefusedTotal, long LastSeq, string? RecoveredFromCorruption)
{
    /// <summary>
    /// Stored measurements and scan points whose analysis failed in a way a later analysis takes (no model loaded, an
    /// ONNX Runtime failure; <see cref="OutboxOptions.ReanalysisReasonPrefixes"/>), still awaiting it. Since 2026-11-24.
    /// </summary>
    public long AwaitingReanalysis { get; init; }

    /// <summary>
    /// Such rows pruned by the stored results' bounds before their analysis (log 7048), since the database was created
    /// (persistent, like <see cref="EvictedTotal"/>; both are carried over from a damaged file moved aside at start when its
    /// counters still read, since 2026-11-24, review: until then the recovery reset them to 0). Since 2026-11-24.
    /// </summary>
    public long PrunedUnanalysedTotal { get; init; }

    /// <summary>
    /// Run-clock age (<see cref="SqliteOutbox.RunClockMilliseconds"/>: time the service has had the outbox open) of the
    /// oldest queued row that records one; zero when the queue is empty, null when no queued row records one (stored by
    /// a build before 2026-11-25) or the file has no run clock. <see cref="OutboxOptions.MaxAge"/> evicts a row only when
    /// this age and its wall-clock age (<see cref="OldestAge"/>) both exceed it. <see cref="SqliteOutbox.Inspect"/> reads
    /// the clock as last saved (at the last stored row, dead letter, idle save or stop), so it can lag a running service
    /// (by up to <see cref="SqliteOutbox.RunClockIdleSaveInterval"/> while it is connected and idle). Since 2026-11-25.
    /// </summary>
    public TimeSpan? OldestRunAge { get; init; }

    /// <summary>
    /// False when <see cref="AwaitingReanalysis"/> could not be counted (0): <see cref="SqliteOutbox.Inspect"/> of a file
    /// that no release since 2026-11-24 has opened, which holds no index of the service's re-analysis test.
    /// </summary>
    public bool AwaitingReanalysisCounted { get; init; } = true;
}

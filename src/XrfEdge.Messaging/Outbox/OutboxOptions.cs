namespace XrfEdge.Messaging.Outbox;

/// <summary>Durable outbox settings (configuration section <c>Outbox</c>).</summary>
public sealed class OutboxOptions
{
    /// <summary>SQLite file; keep it on persistent storage (<c>$STATE_DIRECTORY</c>, never tmpfs).</summary>
    public required string DatabasePath { get; set; }

    /// <summary>Byte cap over all queued payloads; 256 MiB by default (a week offline at one 5 KiB detection a minute is ≈ 50 MiB).</summary>
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Rows older than this are evicted (counted in <c>evicted_total</c>); 30 days by default. Older by the wall clock and
    /// by <see cref="SqliteOutbox.RunClockMilliseconds"/> both (rows from a build without the run clock: the wall clock).
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Policy when <see cref="MaxBytes"/> would be exceeded.</summary>
    public OutboxFullPolicy FullPolicy { get; set; } = OutboxFullPolicy.EvictOldest;

    /// <summary>Hard cap on the database file (SQLite <c>max_page_count</c>), bytes; null = the disk's size. Reaching it behaves like a full disk.</summary>
    public long? MaxFileBytes { get; set; }

    /// <summary>Refused publishes (PUBACK ≥ 0x80) after which a row moves to the dead-letter table instead of blocking the queue.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>
    /// How long opening and each statement wait for a lock held by another process before failing with SQLITE_BUSY;
    /// 5 s by default (whole seconds; 1 … 5 s; SQLite's busy handler may give up somewhat sooner, measured 3.1–5 s, and
    /// Microsoft.Data.Sqlite's own retries add at most 1 s). The wait happens under the outbox's own lock and inside a store, so it
    /// must end before the service's watchdog sees a stalled stage (store budget 5 s + Health:StallSeconds ≥ 5 s); the
    /// publishing stage retries a refused store as "waiting", which keeps the watchdog fed.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Stored measurement results (detection + spectrum protobuf, the <c>results</c> table) kept for <c>get_spectrum</c>
    /// and audits, newest first by insertion; 10,000 by default. Incomplete measurements stored with their spectrum
    /// (<see cref="SqliteOutbox.EnqueueIncompleteMeasurement"/>) count as rows too. Bounded in bytes as well by
    /// <see cref="ResultRetentionBytes"/>.
    /// </summary>
    public int ResultRetention { get; set; } = 10_000;

    /// <summary>
    /// Byte cap over the stored results (detection and spectrum payloads), separate from <see cref="MaxBytes"/>, which
    /// counts only queued rows and dead letters; beyond it the oldest results are dropped (the newest is always kept);
    /// 96 MiB by default. A result of a 2048-channel spectrum of ~2e8 counts takes 7.3 KiB (measured in
    /// OutboxReviewTests), so the default keeps the full 10,000 of <see cref="ResultRetention"/> (≈ 73 MiB);
    /// 8192-channel spectra (up to ~42 KiB each in the worst case, every count a 5-byte varint) are held to ~2,300
    /// results instead of ~400 MiB of file.
    /// </summary>
    public long ResultRetentionBytes { get; set; } = 96L * 1024 * 1024;

    /// <summary>
    /// The <c>reason</c> prefixes of the stored incomplete measurements and scan points that a later analysis takes (the
    /// service: "analysis failed: no model loaded: ", "analysis failed: ONNX Runtime "): what
    /// <see cref="OutboxStatistics.AwaitingReanalysis"/>, <see cref="OutboxStatistics.PrunedUnanalysedTotal"/> and log
    /// 7048 count. Null (the default): every incomplete measurement stored with its spectrum, aborted ones included.
    /// Each prefix matches literally (quotes, <c>%</c> and <c>_</c> included) and by characters, so one holding a
    /// character outside the BMP works too (since 2026-11-24, review: such a prefix matched no row).
    /// </summary>
    public IReadOnlyList<string>? ReanalysisReasonPrefixes { get; set; }
}

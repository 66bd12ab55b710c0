namespace XrfEdge.Messaging.Publishing;

/// <summary>
/// Retry pacing and log budget for a storage write that keeps failing while the cause lasts (a broker refusal the outbox
/// cannot record because SQLite is full, an acknowledged row it cannot delete because the file is locked; docs/mqtt.md
/// §5). The wait before the next attempt doubles from <see cref="Initial"/> up to <see cref="Cap"/>; the first failure
/// of an outage is reported in full, later ones at most once per back-off step, and the end of the outage once. Pure bookkeeping: the caller passes the time (from its
/// <see cref="TimeProvider"/>), so tests drive it with a hand-moved clock. Not thread-safe: one loop owns it.
/// </summary>
internal sealed class StorageRetryBackoff
{
    /// <summary>Wait after the first failure: 1 s, the fixed pause the drainer used before the back-off.</summary>
    public static readonly TimeSpan DefaultInitial = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Longest wait: 30 s, the cap the publishing stage uses for a result it cannot store (docs/service.md,
    /// "Durability"), so one full disk paces both paths alike; 1, 2, 4, 8, 16, 30, 30 … s.
    /// </summary>
    public static readonly TimeSpan DefaultCap = TimeSpan.FromSeconds(30);

    private int _failures;
    private DateTimeOffset _since;
    private DateTimeOffset _nextReport;
    private TimeSpan _delay;

    public StorageRetryBackoff(TimeSpan initial, TimeSpan cap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(cap, initial);
        Initial = initial;
        Cap = cap;
    }

    /// <summary>Wait after the first failure of an outage.</summary>
    public TimeSpan Initial { get; }

    /// <summary>Longest wait between attempts.</summary>
    public TimeSpan Cap { get; }

    /// <summary>True from a failure until the next success.</summary>
    public bool Failing => _failures > 0;

    /// <summary>Records a failed attempt at <paramref name="now"/>: how long to wait before the next one, and what to log.</summary>
    public Step Fail(DateTimeOffset now)
    {
        if (_failures == 0)
        {
            _failures = 1;
            _since = now;
            _delay = Initial;
            _nextReport = now + _delay;
            return new Step(_delay, Report.First, _failures, _since);
        }

        _failures++;
        _delay = _delay >= Cap / 2 ? Cap : _delay * 2;

        // One report per step at most: several failures inside one wait (rows refused in separate batches) stay silent.
        if (now < _nextReport)
        {
            return new Step(_delay, Report.None, _failures, _since);
        }

        _nextReport = now + _delay;
        return new Step(_delay, Report.StillFailing, _failures, _since);
    }

    /// <summary>Records a successful attempt; returns the outage it ended, or null when none was running.</summary>
    public Outage? Succeed(DateTimeOffset now)
    {
        if (_failures == 0)
        {
            return null;
        }

        var ended = new Outage(_failures, now - _since);
        _failures = 0;
        return ended;
    }

    /// <summary>What the caller logs for one failure.</summary>
    public enum Report
    {
        /// <summary>Nothing: a report was already made in this back-off step.</summary>
        None,

        /// <summary>The first failure of an outage: log it in full, as an error.</summary>
        First,

        /// <summary>A later failure, the first in its back-off step: log a one-line reminder.</summary>
        StillFailing,
    }

    /// <summary>The outcome of <see cref="Fail"/>: wait <paramref name="Delay"/>, log per <paramref name="Report"/>.</summary>
    public readonly record struct Step(TimeSpan Delay, Report Report, int Failures, DateTimeOffset Since);

    /// <summary>An outage that ended: <paramref name="Failures"/> failed attempts over <paramref name="Duration"/>.</summary>
    public readonly record struct Outage(int Failures, TimeSpan Duration);
}

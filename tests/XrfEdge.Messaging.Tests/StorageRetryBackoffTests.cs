using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The pacing of a storage write that keeps failing (a refusal the outbox cannot record while SQLite is full), driven by
/// a hand-moved clock: no test here waits for real time.
/// </summary>
public sealed class StorageRetryBackoffTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static StorageRetryBackoff Default() => new(StorageRetryBackoff.DefaultInitial, StorageRetryBackoff.DefaultCap);

    [Fact]
    public void Fail_EachAttemptWhenItsWaitEnds_DoublesFromOneSecondAndStopsAtThirty()
    {
        var clock = new FakeTimeProvider(Start);
        var backoff = Default();
        var delays = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            var step = backoff.Fail(clock.GetUtcNow());
            delays.Add(step.Delay.TotalSeconds);
            clock.Advance(step.Delay);
        }

        // 1 s initial (the former fixed pause), doubling, capped at 30 s (StorageRetryBackoff.DefaultCap).
        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], delays);
    }

    [Fact]
    public void Fail_FirstOfAnOutage_ReportedInFullThenOnceForEveryStep()
    {
        var clock = new FakeTimeProvider(Start);
        var backoff = Default();
        var reports = new List<StorageRetryBackoff.Report>();
        for (var i = 0; i < 6; i++)
        {
            var step = backoff.Fail(clock.GetUtcNow());
            reports.Add(step.Report);
            Assert.Equal(i + 1, step.Failures);
            Assert.Equal(Start, step.Since);
            clock.Advance(step.Delay);
        }

        Assert.Equal(StorageRetryBackoff.Report.First, reports[0]);
        Assert.All(reports.Skip(1), r => Assert.Equal(StorageRetryBackoff.Report.StillFailing, r));
    }

    [Fact]
    public void Fail_SeveralFailuresInsideOneStep_OnlyTheFirstIsReported()
    {
        // Rows refused in separate acknowledgement batches fail within milliseconds of each other: one log, not one each.
        var clock = new FakeTimeProvider(Start);
        var backoff = Default();
        Assert.Equal(StorageRetryBackoff.Report.First, backoff.Fail(clock.GetUtcNow()).Report);
        clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(StorageRetryBackoff.Report.None, backoff.Fail(clock.GetUtcNow()).Report);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(StorageRetryBackoff.Report.StillFailing, backoff.Fail(clock.GetUtcNow()).Report);
        clock.Advance(TimeSpan.FromSeconds(1));

        // The last step's wait was 4 s: a failure 1 s into it stays silent.
        Assert.Equal(StorageRetryBackoff.Report.None, backoff.Fail(clock.GetUtcNow()).Report);
    }

    [Fact]
    public void Succeed_AfterAnOutage_ReportsItOnceAndTheNextFailureStartsAgainAtOneSecond()
    {
        var clock = new FakeTimeProvider(Start);
        var backoff = Default();
        Assert.Null(backoff.Succeed(clock.GetUtcNow()));
        for (var i = 0; i < 3; i++)
        {
            clock.Advance(backoff.Fail(clock.GetUtcNow()).Delay);
        }

        // Failures at 0, 1 and 3 s; the third's wait (4 s) ends at 7 s, where the write succeeds.
        var outage = backoff.Succeed(clock.GetUtcNow());
        Assert.Equal(new StorageRetryBackoff.Outage(3, TimeSpan.FromSeconds(7)), outage);
        Assert.False(backoff.Failing);
        Assert.Null(backoff.Succeed(clock.GetUtcNow()));

        var again = backoff.Fail(clock.GetUtcNow());
        Assert.Equal(StorageRetryBackoff.Report.First, again.Report);
        Assert.Equal(TimeSpan.FromSeconds(1), again.Delay);
    }
}

using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Tests.Support;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Review of the outbox store: a second process on the same file. Real SQLite files in a temporary folder; the second process is this test assembly's
/// <c>hold-outbox</c> mode (<see cref="Program"/>).
/// </summary>
public sealed class OutboxReviewTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-outbox-review-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _time = new(Start);

    public OutboxReviewTests() => Directory.CreateDirectory(_directory);

    private string DbPath => Path.Combine(_directory, "outbox.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SqliteOutbox Open(Action<OutboxOptions>? configure = null)
    {
        var options = new OutboxOptions { DatabasePath = DbPath };
        configure?.Invoke(options);
        return SqliteOutbox.Open(options, timeProvider: _time);
    }

    private static OutboxReceipt EnqueueMeasurement(SqliteOutbox outbox, string id, int bytes = 100) =>
        outbox.EnqueueMeasurement(new MeasurementRecord(id, null), _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[bytes] }]);

    [Fact]
    public async Task Open_FileHeldByAnotherProcess_RefusedNamingItThenOpensOnceThatProcessIsKilled()
    {
        using (var outbox = Open())
        {
            EnqueueMeasurement(outbox, "M1");
        }

        // A second instance (a hand-started `xrfedge run`, a second unit) would drain, delete and evict the same rows
        // with its own byte count: each process's cap arithmetic then evicts rows the other has not counted.
        using (var holder = new ChildProcess("hold-outbox", DbPath))
        {
            await holder.WaitForLineAsync("OPEN");
            var error = Assert.Throws<IOException>(() => Open());
            Assert.Contains(DbPath, error.Message, StringComparison.Ordinal);
            Assert.Contains("another process", error.Message, StringComparison.Ordinal);

            // kill -9: the kernel drops the lock with the process, so a restart after a crash is never blocked.
            holder.KillHard();
        }

        using var reopened = Open();
        Assert.Equal(1, reopened.GetStatistics().Depth);
        Assert.Equal(2, EnqueueMeasurement(reopened, "M2").Stamp.Seq);
    }

    [Fact]
    public void Open_SecondInstanceInThisProcess_RefusedAndFirstKeepsWorking()
    {
        using var first = Open();
        EnqueueMeasurement(first, "M1");

        Assert.Throws<IOException>(() => Open());

        Assert.Equal(2, EnqueueMeasurement(first, "M2").Stamp.Seq);
        Assert.Equal(2, first.GetStatistics().Depth);
    }

    [Fact]
    public void Inspect_WhileTheServiceHoldsTheFile_StillReads()
    {
        // The instance lock must not shut out the read-only `xrfedge outbox` verb.
        using var outbox = Open();
        EnqueueMeasurement(outbox, "M1");
        var (stats, integrity) = SqliteOutbox.Inspect(DbPath, _time);
        Assert.Equal("ok", integrity);
        Assert.Equal(1, stats!.Depth);
    }
}

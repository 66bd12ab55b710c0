using System.Text;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Tests.Support;

namespace XrfEdge.Messaging.Tests;

public sealed class OutboxTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-outbox-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _time = new(Start);

    public OutboxTests() => Directory.CreateDirectory(_directory);

    private string DbPath => Path.Combine(_directory, "outbox.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SqliteOutbox Open(Action<OutboxOptions>? configure = null)
    {
        var options = new OutboxOptions { DatabasePath = DbPath };
        configure?.Invoke(options);
        return SqliteOutbox.Open(options, timeProvider: _time);
    }

    private static OutboxMessage Message(OutboxKind kind, int bytes, string topic = "t") =>
        new() { Kind = kind, Topic = topic, Payload = new byte[bytes] };

    private static OutboxReceipt EnqueueMeasurement(SqliteOutbox outbox, string id, int bytes = 100) =>
        outbox.EnqueueMeasurement(new MeasurementRecord(id, [1, 2, 3]), stamp => [Message(OutboxKind.Detection, bytes)]);

    [Fact]
    public void EnqueueMeasurement_ReopenedDatabase_SeqContinuesByOne()
    {
        using (var outbox = Open())
        {
            Assert.Equal(1, EnqueueMeasurement(outbox, "M1").Stamp.Seq);
            Assert.Equal(2, EnqueueMeasurement(outbox, "M2").Stamp.Seq);
        }

        using var reopened = Open();
        Assert.Equal(3, EnqueueMeasurement(reopened, "M3").Stamp.Seq);
        Assert.Equal(3, reopened.GetStatistics().Depth);
    }

    [Fact]
    public void EnqueueMeasurement_Committed_ResultSpectrumAndRowShareMsgId()
    {
        using var outbox = Open();
        var receipt = outbox.EnqueueMeasurement(new MeasurementRecord("M1", [9, 9]), stamp =>
            [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "d", Payload = Encoding.UTF8.GetBytes($"{{\"seq\":{stamp.Seq},\"msg_id\":\"{stamp.MsgId}\"}}") }]);

        var row = Assert.Single(outbox.ReadBatch(0, 10));
        Assert.Equal(receipt.Stamp.MsgId, row.MsgId);
        Assert.Equal(7, receipt.Stamp.MsgId.Version); // UUIDv7 (RFC 9562)
        Assert.Equal(row.Payload, outbox.TryGetResult("M1"));
        Assert.Equal(new byte[] { 9, 9 }, outbox.TryGetSpectrum("M1"));
    }

    [Fact]
    public void EnqueueMeasurement_BuilderThrows_NothingStoredAndSeqNotConsumed()
    {
        using var outbox = Open();
        Assert.Throws<InvalidOperationException>(() => outbox.EnqueueMeasurement(new MeasurementRecord("M1", null), _ => throw new InvalidOperationException("bad payload")));
        Assert.Equal(0, outbox.GetStatistics().Depth);
        Assert.Null(outbox.TryGetResult("M1"));
        Assert.Equal(1, EnqueueMeasurement(outbox, "M2").Stamp.Seq);
    }

    [Fact]
    public void ReadBatch_AfterDelete_OldestFirstAndAckedRowsGone()
    {
        using var outbox = Open();
        var ids = Enumerable.Range(0, 5).Select(i => EnqueueMeasurement(outbox, $"M{i}").RowId).ToArray();
        outbox.Delete([ids[0], ids[2]]);
        Assert.Equal([ids[1], ids[3], ids[4]], outbox.ReadBatch(0, 10).Select(r => r.Id));
        Assert.Equal([ids[3], ids[4]], outbox.ReadBatch(ids[1], 10).Select(r => r.Id));
        Assert.Equal(300, outbox.GetStatistics().Bytes); // 3 rows × 100-byte payloads
    }

    [Fact]
    public void Enqueue_OverByteCapWithEvictOldest_EvictsLowestPriorityFirstAndCountsIt()
    {
        // Cap 1,000 bytes: two 400-byte rows fit, a third needs one evicted.
        using (var outbox = Open(o => o.MaxBytes = 1000))
        {
            EnqueueMeasurement(outbox, "M1", 400);
            outbox.Enqueue(Message(OutboxKind.HealthHistory, 400));
            var receipt = EnqueueMeasurement(outbox, "M2", 400);
            Assert.Equal(1, receipt.Evicted);
            var kinds = outbox.ReadBatch(0, 10).Select(r => r.Kind).ToArray();
            Assert.Equal([OutboxKind.Detection, OutboxKind.Detection], kinds);
        }

        using var reopened = Open(o => o.MaxBytes = 1000);
        Assert.Equal(1, reopened.GetStatistics().EvictedTotal);
    }

    [Fact]
    public void Enqueue_OverByteCapWithRejectNew_RefusesLoudlyAndKeepsStoredRows()
    {
        using var outbox = Open(o => { o.MaxBytes = 1000; o.FullPolicy = OutboxFullPolicy.RejectNew; });
        EnqueueMeasurement(outbox, "M1", 600);
        var error = Assert.Throws<OutboxFullException>(() => EnqueueMeasurement(outbox, "M2", 600));
        Assert.Contains("NOT stored", error.Message, StringComparison.Ordinal);
        var stats = outbox.GetStatistics();
        Assert.Equal(1, stats.Depth);
        Assert.Equal(1, stats.RefusedTotal);
        Assert.Null(outbox.TryGetResult("M2"));
    }

    [Fact]
    public void Enqueue_FileCapReached_BehavesLikeFullDiskAndKeepsOldRows()
    {
        // 256 KiB file cap (SQLite max_page_count) with 16 KiB payloads: fills after roughly a dozen rows.
        using var outbox = Open(o => o.MaxFileBytes = 256 * 1024);
        var stored = 0;
        OutboxFullException? full = null;
        for (var i = 0; i < 100 && full is null; i++)
        {
            try
            {
                EnqueueMeasurement(outbox, $"M{i}", 16 * 1024);
                stored++;
            }
            catch (OutboxFullException ex)
            {
                full = ex;
            }
        }

        Assert.NotNull(full);
        Assert.Contains("full", full!.Message, StringComparison.Ordinal);
        Assert.InRange(stored, 1, 99);
        Assert.Equal(stored, outbox.GetStatistics().Depth);
        Assert.Equal(1, outbox.GetStatistics().RefusedTotal);
        Assert.Equal(stored, outbox.ReadBatch(0, 1000).Count);
    }

    [Fact]
    public void Open_CorruptFile_MovesItAsideStartsEmptyAndKeepsSeqGrowing()
    {
        File.WriteAllBytes(DbPath, Encoding.ASCII.GetBytes(new string('x', 8192)));
        using var outbox = Open();
        Assert.NotNull(outbox.RecoveredFromCorruption);
        Assert.True(File.Exists(outbox.RecoveredFromCorruption));
        Assert.Equal(0, outbox.GetStatistics().Depth);

        // Seq resumes above the wall clock in ms (Start = 2026-03-01 → 1.77e12), above any seq the lost file held.
        Assert.True(EnqueueMeasurement(outbox, "M1").Stamp.Seq > Start.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void PurgeExpired_RowsOlderThanMaxAge_EvictedAndCounted()
    {
        using var outbox = Open(o => o.MaxAge = TimeSpan.FromDays(7));
        EnqueueMeasurement(outbox, "old");
        _time.Advance(TimeSpan.FromDays(8));
        EnqueueMeasurement(outbox, "new");
        Assert.Equal(TimeSpan.FromDays(8), outbox.GetStatistics().OldestAge);

        Assert.Equal(1, outbox.PurgeExpired());
        var stats = outbox.GetStatistics();
        Assert.Equal(1, stats.Depth);
        Assert.Equal(1, stats.EvictedTotal);
    }

    [Fact]
    public void RecordRefusal_MaxAttemptsReached_RowMovesToDeadLetter()
    {
        using var outbox = Open(o => o.MaxAttempts = 2);
        var id = EnqueueMeasurement(outbox, "M1").RowId;
        Assert.False(outbox.RecordRefusal(id, 0x87));
        Assert.Equal(1, outbox.ReadBatch(0, 10)[0].Attempts);
        Assert.True(outbox.RecordRefusal(id, 0x87));
        var stats = outbox.GetStatistics();
        Assert.Equal(0, stats.Depth);
        Assert.Equal(1, stats.DeadLettered);
        Assert.Equal(0, stats.Bytes);
    }

    [Fact]
    public void Open_NewDatabase_JournalModeIsWal()
    {
        using (Open())
        {
        }

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar() as string);
    }
}

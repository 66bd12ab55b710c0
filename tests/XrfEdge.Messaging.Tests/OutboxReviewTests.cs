using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Tests.Support;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Review of the outbox store: a second process on the same file, dead letters that grew without bound, and a file
/// written by a newer schema. Real SQLite files in a temporary folder; the second process is this test assembly's
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

    [Fact]
    public void Enqueue_WriteLockHeldElsewhere_GivesUpWithinFiveSeconds()
    {
        // An operator's sqlite3 in a transaction (or VACUUM) holds the write lock. The store waits for it under the
        // outbox's own lock, inside the publishing stage's 5 s store budget + Health:StallSeconds (≥ 5 s): past that the
        // watchdog is withheld and systemd kills the service. The default used to be 30 s (+ up to 5 s of SQLite's own
        // busy wait), past both that threshold and WatchdogSec=30s; failing sooner lets the stage retry as "waiting".
        using var outbox = Open();
        using var locker = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        locker.Open();
        using (var begin = locker.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<SqliteException>(() => EnqueueMeasurement(outbox, "M1"));

        Assert.Equal(5, error.SqliteErrorCode & 0xFF); // SQLITE_BUSY (sqlite.org/rescode.html)
        // It waited (not an immediate failure) and gave up well before the old 30 s: SQLite's busy handler ends within
        // BusyTimeout (5 s; measured 3.1–5.0 s, as its back-off steps need not add up to the whole), and
        // Microsoft.Data.Sqlite's own retries add at most 1 s (10 s before that was bounded). Slack for a loaded machine.
        Assert.InRange(watch.Elapsed.TotalSeconds, 1, 9);
        locker.Close();
        Assert.Equal(1, EnqueueMeasurement(outbox, "M1").Stamp.Seq); // the refused attempt consumed no seq
    }

    [Fact]
    public void PurgeExpired_DeadLettersOlderThanMaxAge_Dropped()
    {
        using var outbox = Open(o => { o.MaxAttempts = 1; o.MaxAge = TimeSpan.FromDays(7); });
        Assert.True(outbox.RecordRefusal(EnqueueMeasurement(outbox, "refused").RowId, 0x87)); // 0x87 Not authorized
        _time.Advance(TimeSpan.FromDays(8));
        Assert.True(outbox.RecordRefusal(EnqueueMeasurement(outbox, "refused-later").RowId, 0x87));
        Assert.Equal(2, outbox.GetStatistics().DeadLettered);

        outbox.PurgeExpired();

        Assert.Equal(1, outbox.GetStatistics().DeadLettered);
        Assert.Equal(1, DeadLetterCount());
    }

    [Fact]
    public void PurgeExpired_DeadLettersBeyondByteCap_OldestDroppedQueuedRowsKept()
    {
        // Cap 1,000 bytes; three 300-byte dead letters and one 300-byte queued row = 1,200 bytes on disk: the oldest
        // dead letter goes, the queued result stays (a broker that refuses everything, e.g. an ACL, must not grow the
        // file without bound: every refused row moved to dead_letter, which no cap or age limit covered).
        using var outbox = Open(o => { o.MaxAttempts = 1; o.MaxBytes = 1000; });
        var dead = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            var row = EnqueueMeasurement(outbox, $"refused-{i}", 300).RowId;
            Assert.True(outbox.RecordRefusal(row, 0x87));
            dead.Add(row);
        }

        var queued = EnqueueMeasurement(outbox, "queued", 300).RowId;

        outbox.PurgeExpired();

        Assert.Equal([queued], outbox.ReadBatch(0, 10).Select(r => r.Id));
        Assert.Equal(dead.Skip(1), DeadLetterIds());
    }

    [Fact]
    public void Open_NewFile_StampsSchemaVersion()
    {
        using (Open())
        {
        }

        Assert.Equal(SqliteOutbox.SchemaVersion, UserVersion());
    }

    [Fact]
    public void Open_FileFromNewerSchema_RefusedNamingFileAndVersionAndLeftUntouched()
    {
        using (var outbox = Open())
        {
            EnqueueMeasurement(outbox, "M1");
        }

        // What a newer release might do: a new NOT NULL column and a bumped version. Opening it with this build (a
        // rollback) used to succeed, and then every result failed to insert.
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0; PRAGMA user_version = {SqliteOutbox.SchemaVersion + 1};";
            command.ExecuteNonQuery();
        }

        var before = File.ReadAllBytes(DbPath);
        var error = Assert.Throws<IOException>(() => Open());

        Assert.Contains(DbPath, error.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {SqliteOutbox.SchemaVersion + 1}", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(DbPath));
        Assert.Empty(Directory.GetFiles(_directory, "*.corrupt-*"));
    }

    private long UserVersion() => Query("PRAGMA user_version").Single();

    private long DeadLetterCount() => Query("SELECT COUNT(*) FROM dead_letter").Single();

    private List<long> DeadLetterIds() => Query("SELECT id FROM dead_letter ORDER BY id");

    private List<long> Query(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<long>();
        while (reader.Read())
        {
            values.Add(reader.GetInt64(0));
        }

        return values;
    }

    private void DamageOutboxTable() => OutboxDamage.DamageOutboxTable(DbPath);

    [Fact]
    public void Enqueue_FileDamagedWhileOpen_ThrowsOutboxCorruptNotFullLogsOnceAndReopenMovesItAside()
    {
        // Before: SQLite's SQLITE_CORRUPT came out as a bare SqliteException, which the service took for a full disk and
        // retried for as long as it ran; only a restart, which nothing caused, moved the file aside.
        var log = new MemoryLoggerFactory();
        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath }, new Microsoft.Extensions.Logging.Logger<SqliteOutbox>(log), _time))
        {
            EnqueueMeasurement(outbox, "M1");
            DamageOutboxTable();

            var error = Assert.Throws<OutboxCorruptException>(() => EnqueueMeasurement(outbox, "M2"));
            Assert.Equal(DbPath, error.DatabasePath);
            Assert.Contains(DbPath, error.Message, StringComparison.Ordinal);
            Assert.Equal(11, ((SqliteException)error.InnerException!).SqliteErrorCode & 0xFF); // SQLITE_CORRUPT, sqlite.org/rescode.html
            Assert.True(outbox.IsDamaged);
            Assert.Same(error, outbox.Damage);
            Assert.True(SpinWait.SpinUntil(() => outbox.Damaged.IsCancellationRequested, TimeSpan.FromSeconds(10))); // the service's cue to restart

            // Reads fail the same way (the drainer's), and the damage is logged once, not once per statement.
            Assert.Throws<OutboxCorruptException>(() => outbox.ReadBatch(0, 10));
            var logged = Assert.Single(log.WithEvent(7028));
            Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Critical, logged.Level);
            Assert.Contains(DbPath, logged.Message, StringComparison.Ordinal);
        }

        // What the restart does: the damaged file is moved aside and the outbox works again.
        using var reopened = Open();
        Assert.NotNull(reopened.RecoveredFromCorruption);
        Assert.True(File.Exists(reopened.RecoveredFromCorruption));
        Assert.Equal(DbPath, reopened.DatabasePath);
        EnqueueMeasurement(reopened, "M3");
        Assert.Single(reopened.ReadBatch(0, 10));
    }

    private (long Rows, long Bytes) StoredResults()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(SUM(length(detection) + COALESCE(length(spectrum), 0)), 0) FROM results";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    [Fact]
    public async Task EnqueueMeasurement_RealDetectionAndSpectrum_RowSizeWithinTheDocumentedFigure()
    {
        // The size docs/mqtt.md §5 and OutboxOptions.ResultRetentionBytes quote for one stored result (7,498 bytes when
        // measured on 2026-11-23): TestData's 2048-channel spectrum (10 eV/channel, a common handheld SDD set-up) with
        // ~100,000 counts per channel, i.e. 2e8 counts (a long acquisition), and its detection message, as the publisher
        // stores them. 100,000 < 2^21, so each count is a 3-byte varint (protobuf encoding guide, "Base 128 Varints"):
        // 6,144 bytes of counts plus the header fields.
        using var outbox = Open();
        await using var transport = new XrfEdge.Messaging.Transport.MosquittoTransport(Program.ChildTransport(1, "result-size"));
        await using var publisher = new XrfEdge.Messaging.Publishing.DetectionPublisher(transport, outbox, new XrfEdge.Messaging.Topics.TopicTree("acme", "dev1"), new XrfEdge.Messaging.Publishing.PublisherOptions());
        publisher.Enqueue(TestData.Measurement("M-1", counts: 100_000));

        var spectrum = outbox.TryGetSpectrum("M-1")!.Length;
        var detection = outbox.TryGetResult("M-1")!.Length;
        Assert.InRange(spectrum, 2048 * 3, (2048 * 3) + 256);
        Assert.InRange(detection, 512, 2048);
        Assert.Equal((1L, (long)(spectrum + detection)), StoredResults());

        // The default cap keeps ResultRetention's 10,000 of these: 10,000 × 7.5 KiB ≈ 73 MiB < 96 MiB.
        Assert.True(10_000L * (spectrum + detection) < new OutboxOptions { DatabasePath = DbPath }.ResultRetentionBytes);
    }

    [Fact]
    public void EnqueueMeasurement_StoredResultsBeyondTheirByteCap_OldestDroppedNewestKeptQueueUntouched()
    {
        // Before: only ResultRetention (10,000 rows) bounded the results table, outside the MaxBytes cap on queued rows;
        // with spectra it could grow to hundreds of MiB. Each result here: 100-byte detection + 2,000-byte spectrum, so a
        // 10,000-byte cap holds 4 (8,400 bytes; a fifth would make 10,500).
        using (var outbox = Open(o => o.ResultRetentionBytes = 10_000))
        {
            for (var i = 1; i <= 10; i++)
            {
                outbox.EnqueueMeasurement(new MeasurementRecord($"M{i}", new byte[2_000]), _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[100] }]);
            }

            Assert.Equal((4L, 8_400L), StoredResults());
            Assert.Null(outbox.TryGetSpectrum("M6"));
            Assert.All(new[] { "M7", "M8", "M9", "M10" }, id => Assert.NotNull(outbox.TryGetSpectrum(id)));
            Assert.Equal(10, outbox.GetStatistics().Depth); // the queue is bounded by MaxBytes only: nothing evicted
        }

        // The running count starts from the file after a reopen; a single result above the cap is still kept (the newest).
        using var reopened = Open(o => o.ResultRetentionBytes = 10_000);
        reopened.EnqueueMeasurement(new MeasurementRecord("M11", new byte[2_000]), _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[100] }]);
        Assert.Equal((4L, 8_400L), StoredResults());
        Assert.Null(reopened.TryGetSpectrum("M7"));
        reopened.EnqueueMeasurement(new MeasurementRecord("M12", new byte[20_000]), _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[100] }]);
        Assert.Equal((1L, 20_100L), StoredResults());
        Assert.NotNull(reopened.TryGetSpectrum("M12"));
    }
}

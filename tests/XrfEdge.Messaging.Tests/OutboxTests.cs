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
    public void Enqueue_FileCapReachedThenRowsAcked_RefusesThenStoresAgain()
    {
        // SQLite rolls the whole transaction back on SQLITE_FULL (sqlite.org/lang_transaction.html); the refusal must
        // still be OutboxFullException, and the connection must be usable for the drain and later results.
        using var outbox = Open(o => o.MaxFileBytes = 256 * 1024);
        var receipts = new List<OutboxReceipt>();
        Assert.Throws<OutboxFullException>(() =>
        {
            for (var i = 0; i < 100; i++)
            {
                receipts.Add(EnqueueMeasurement(outbox, $"M{i}", 16 * 1024));
            }
        });
        Assert.Throws<OutboxFullException>(() => EnqueueMeasurement(outbox, "refused-again", 16 * 1024));
        Assert.Equal(receipts.Count, outbox.GetStatistics().Depth);

        outbox.Delete(receipts.Take(4).Select(r => r.RowId).ToArray());
        var next = EnqueueMeasurement(outbox, "after-ack", 16 * 1024);
        Assert.Equal(receipts[^1].Stamp.Seq + 1, next.Stamp.Seq); // refused results consumed no seq
        Assert.Equal(receipts.Count - 3, outbox.GetStatistics().Depth);
        Assert.Equal(2, outbox.GetStatistics().RefusedTotal);
    }

    [Fact]
    public void Open_LockedByAnotherProcess_FailsNamingTheFileAndKeepsItsRows()
    {
        using (var outbox = Open())
        {
            EnqueueMeasurement(outbox, "M1");
            EnqueueMeasurement(outbox, "M2");
        }

        using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            other.Open();
            using var hold = other.CreateCommand();
            hold.CommandText = "BEGIN IMMEDIATE";
            hold.ExecuteNonQuery();

            var error = Assert.Throws<IOException>(() => Open(o => o.BusyTimeout = TimeSpan.FromSeconds(1)));
            Assert.Contains(DbPath, error.Message, StringComparison.Ordinal);
            Assert.Contains("SQLite error 5", error.Message, StringComparison.Ordinal); // SQLITE_BUSY
        }

        Assert.Empty(Directory.GetFiles(_directory, "*.corrupt-*"));
        using var reopened = Open();
        Assert.Null(reopened.RecoveredFromCorruption);
        Assert.Equal(2, reopened.GetStatistics().Depth);
        Assert.Equal(3, EnqueueMeasurement(reopened, "M3").Stamp.Seq);
    }

    [Fact]
    public void Open_PathIsADirectory_FailsNamingItAndMovesNothing()
    {
        Directory.CreateDirectory(DbPath);
        var error = Assert.Throws<IOException>(() => Open());
        Assert.Contains(DbPath, error.Message, StringComparison.Ordinal);
        Assert.True(Directory.Exists(DbPath));
        Assert.Empty(Directory.GetFileSystemEntries(_directory, "*.corrupt-*"));
    }

    // Primary and extended result codes from https://www.sqlite.org/rescode.html.
    [Theory]
    [InlineData(5, false)] // SQLITE_BUSY: another process holds the lock
    [InlineData(8, false)] // SQLITE_READONLY: permissions or a read-only mount
    [InlineData(264, false)] // SQLITE_READONLY_RECOVERY
    [InlineData(10, false)] // SQLITE_IOERR
    [InlineData(13, false)] // SQLITE_FULL
    [InlineData(14, false)] // SQLITE_CANTOPEN
    [InlineData(11, true)] // SQLITE_CORRUPT
    [InlineData(267, true)] // SQLITE_CORRUPT_VTAB
    [InlineData(26, true)] // SQLITE_NOTADB
    public void IsCorruption_SqliteErrorCode_OnlyDamageMovesTheFileAside(int code, bool corrupt)
    {
        Assert.Equal(corrupt, SqliteOutbox.IsCorruption(new Microsoft.Data.Sqlite.SqliteException("test", code)));
    }

    [Fact]
    public void IsCorruption_FailedQuickCheck_IsDamage()
    {
        Assert.True(SqliteOutbox.IsCorruption(new InvalidDataException("PRAGMA quick_check reported: row 3 missing from index")));
    }

    [Fact]
    public void Open_ExistingEmptyFile_TreatedAsRecoveryWithSeqJump()
    {
        File.WriteAllBytes(DbPath, []);
        var log = new EventCountingLogger<SqliteOutbox>(7025);
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath }, log, _time);
        Assert.Equal(1, log.Count);
        Assert.Equal(DbPath, outbox.RecoveredFromCorruption);
        Assert.Equal(DbPath, outbox.GetStatistics().RecoveredFromCorruption);

        // As for a damaged file: seq resumes above the wall clock in ms (Start = 2026-03-01 → 1.77e12).
        Assert.True(EnqueueMeasurement(outbox, "M1").Stamp.Seq > Start.ToUnixTimeMilliseconds());
    }

    [Fact]
    public void Open_NewFile_NoRecovery()
    {
        var log = new EventCountingLogger<SqliteOutbox>(7025);
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath }, log, _time);
        Assert.Equal(0, log.Count);
        Assert.Null(outbox.RecoveredFromCorruption);
        Assert.Equal(1, EnqueueMeasurement(outbox, "M1").Stamp.Seq);
    }

    [Fact]
    public void Inspect_DeadLetterPageDamaged_FiguresUnreadableIntegritySaysWhy()
    {
        DamageTablePage("dead_letter");
        var (stats, integrity) = SqliteOutbox.Inspect(DbPath);
        Assert.Null(stats);
        Assert.NotEqual("ok", integrity);
    }

    [Fact]
    public void Open_DamageOutsideOutboxRows_MovedAsideAndEveryRowSalvaged()
    {
        DamageTablePage("dead_letter");
        Guid[] before;
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT msg_id FROM outbox ORDER BY id";
            using var reader = command.ExecuteReader();
            var ids = new List<Guid>();
            while (reader.Read())
            {
                ids.Add(Guid.Parse(reader.GetString(0)));
            }

            before = [.. ids];
        }

        using var outbox = Open();
        Assert.NotNull(outbox.RecoveredFromCorruption);
        Assert.Equal(before, outbox.ReadBatch(0, 100).Select(r => r.MsgId));
        Assert.Equal(1000, outbox.GetStatistics().Bytes); // DamageTablePage writes 10 rows × 100-byte payloads
        Assert.True(EnqueueMeasurement(outbox, "M10").Stamp.Seq > Start.ToUnixTimeMilliseconds());
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
    public void Open_DamagedFile_SalvagedRowsKeepTheirRunClockAge()
    {
        DamageTablePage("dead_letter", runBefore: TimeSpan.FromDays(5));

        using var outbox = Open(o => o.MaxAge = TimeSpan.FromDays(7));
        Assert.NotNull(outbox.RecoveredFromCorruption);
        Assert.True(outbox.RunClockMilliseconds >= (long)TimeSpan.FromDays(5).TotalMilliseconds, $"run clock {outbox.RunClockMilliseconds} ms");
        _time.StepWallClock(TimeSpan.FromDays(40));
        Assert.Equal(0, outbox.PurgeExpired()); // wall age 40 d, run age 0: NULL (wall clock alone) would have evicted all 10
        _time.Advance(TimeSpan.FromDays(7.5));
        Assert.Equal(10, outbox.PurgeExpired());
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

    [Fact]
    public void Inspect_WhileOpen_ReadsFiguresWithoutTouchingTheFile()
    {
        using var outbox = Open();
        EnqueueMeasurement(outbox, "M1");
        EnqueueMeasurement(outbox, "M2");
        _time.Advance(TimeSpan.FromMinutes(5));
        var (stats, integrity) = SqliteOutbox.Inspect(DbPath, _time);
        Assert.Equal("ok", integrity);
        Assert.NotNull(stats);
        Assert.Equal(2, stats.Depth);
        Assert.Equal(2, stats.LastSeq);
        Assert.Equal(TimeSpan.FromMinutes(5), stats.OldestAge);
    }

    [Fact]
    public void Inspect_NotAnOutbox_ClearError()
    {
        File.WriteAllBytes(DbPath, []);
        var error = Assert.Throws<InvalidDataException>(() => SqliteOutbox.Inspect(DbPath));
        Assert.Contains("not an XrfEdge outbox", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_NotSqlite_NotAnOutboxWithSqlitesCode()
    {
        File.WriteAllText(DbPath, "this is a text file, not SQLite\n");

        // Until 2026-11-24 a bare SqliteException; SQLITE_NOTADB is 26 (sqlite.org/rescode.html).
        var error = Assert.Throws<InvalidDataException>(() => SqliteOutbox.Inspect(DbPath));
        Assert.Contains("is not an XrfEdge outbox database: it is not an SQLite database (SQLite error 26: file is not a database)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_PathIsADirectory_UnavailableSayingSoNotMissing()
    {
        Directory.CreateDirectory(DbPath);

        // Until 2026-11-24 "does not exist".
        var error = Assert.Throws<OutboxUnavailableException>(() => SqliteOutbox.Inspect(DbPath));
        Assert.Equal($"Outbox database '{DbPath}' cannot be opened: it is a directory, not a file.", error.Message);
    }

    [Fact]
    public void Inspect_ExclusivelyLockedByAnotherConnection_BusyThenReadsOnceReleased()
    {
        using (var outbox = Open())
        {
            EnqueueMeasurement(outbox, "M1");
        }

        using (OutboxFile.LockExclusively(DbPath))
        {
            // Until 2026-11-24 a bare SqliteException after 30 s, which `xrfedge outbox` reported with exit 2 ("missing or
            // not an outbox"). SQLITE_BUSY is 5 (sqlite.org/rescode.html).
            var error = Assert.Throws<OutboxUnavailableException>(() => SqliteOutbox.Inspect(DbPath, _time));
            Assert.StartsWith($"Outbox database '{DbPath}' is busy: another process holds a lock on it (SQLite error 5: database is locked).", error.Message, StringComparison.Ordinal);
            Assert.True(error.IsBusy);
        }

        var (stats, integrity) = SqliteOutbox.Inspect(DbPath, _time);
        Assert.Equal("ok", integrity);
        Assert.Equal(1, stats!.Depth);
    }

    [Fact]
    public void Inspect_FileSqliteCannotOpen_UnavailableNotARawSqliteException()
    {
        // No permission on the file (a user other than the service's) makes sqlite3_open_v2 itself fail with
        // SQLITE_CANTOPEN (14, sqlite.org/rescode.html), before any statement runs. The tests run as root, whom file modes
        // do not stop, so a Unix socket at the path stands in: open(2) fails on it (ENXIO) and SQLite answers the same 14.
        // Inspect opened the connection outside its classification, so `xrfedge outbox` reported this as exit 2,
        // "missing or not an outbox", not the documented 4 (docs/mqtt.md §5); ReadStoredResults already classified it.
        using var socket = OutboxFile.BindUnixSocket(DbPath);

        var error = Assert.Throws<OutboxUnavailableException>(() => SqliteOutbox.Inspect(DbPath, _time));

        Assert.StartsWith($"Outbox database '{DbPath}' cannot be opened (SQLite error 14: unable to open database file).", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsBusy);
    }

    /// <summary>Writes an outbox with ten rows, closes it (checkpointing the WAL) and overwrites the root page of <paramref name="table"/> with noise.</summary>
    private void DamageTablePage(string table, TimeSpan runBefore = default)
    {
        long rootPage;
        long pageSize;
        using (var outbox = Open())
        {
            _time.Advance(runBefore);
            for (var i = 0; i < 10; i++)
            {
                EnqueueMeasurement(outbox, $"M{i}");
            }
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = '{table}'";
            rootPage = (long)command.ExecuteScalar()!;
            command.CommandText = "PRAGMA page_size";
            pageSize = (long)command.ExecuteScalar()!;
        }

        using var file = new FileStream(DbPath, FileMode.Open, FileAccess.Write);
        file.Position = (rootPage - 1) * pageSize; // pages are numbered from 1 (sqlite.org/fileformat2.html §1.3)
        var noise = new byte[pageSize];
        new Random(20480).NextBytes(noise);
        file.Write(noise);
    }
}

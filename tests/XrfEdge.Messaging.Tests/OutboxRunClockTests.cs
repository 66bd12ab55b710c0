using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Tests.Support;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Outbox:MaxAgeDays against a wall clock that jumps (SqliteOutbox.RunClockMilliseconds): a Raspberry Pi has no
/// real-time clock, starts from the time it was last shut down, and NTP steps it forward once a network is reached.
/// </summary>
public sealed class OutboxRunClockTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxAge = TimeSpan.FromDays(7);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-runclock-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider _time = new(Start);

    public OutboxRunClockTests() => Directory.CreateDirectory(_directory);

    private string DbPath => Path.Combine(_directory, "outbox.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SqliteOutbox Open(int maxAttempts = 10) =>
        SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, MaxAge = MaxAge, MaxAttempts = maxAttempts }, timeProvider: _time);

    private static OutboxReceipt Store(SqliteOutbox outbox, string id) =>
        outbox.EnqueueMeasurement(new MeasurementRecord(id, [1, 2, 3]),
            _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[100] }]);

    [Fact]
    public void PurgeExpired_WallClockSteppedPastMaxAge_RowKeptUntilItHasWaitedMaxAge()
    {
        using var outbox = Open();
        Store(outbox, "measured-offline");
        _time.Advance(TimeSpan.FromHours(1));
        _time.StepWallClock(TimeSpan.FromDays(40)); // NTP corrects a clock that started from the last shutdown

        Assert.Equal(TimeSpan.FromDays(40) + TimeSpan.FromHours(1), outbox.GetStatistics().OldestAge); // health reports the stamp as it is
        Assert.Equal(TimeSpan.FromHours(1), outbox.GetStatistics().OldestRunAge);
        Assert.Equal(0, outbox.PurgeExpired());
        Assert.Equal(1, outbox.GetStatistics().Depth);

        _time.Advance(MaxAge - TimeSpan.FromHours(2));
        Assert.Equal(0, outbox.PurgeExpired());
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, outbox.PurgeExpired());
        var stats = outbox.GetStatistics();
        Assert.Equal(0, stats.Depth);
        Assert.Equal(1, stats.EvictedTotal);
    }

    [Fact]
    public void PurgeExpired_InstrumentOffForLongerThanMaxAge_RunningTimeAloneCountsAcrossRestarts()
    {
        using (var outbox = Open())
        {
            Store(outbox, "before-storage");
            _time.Advance(TimeSpan.FromDays(3));
        }

        _time.StepWallClock(TimeSpan.FromDays(60)); // in storage, powered off: the monotonic clock does not run
        using (var outbox = Open())
        {
            Assert.Equal(0, outbox.PurgeExpired()); // wall age 63 d, run age 3 d
            _time.Advance(TimeSpan.FromDays(3.5));
            Assert.Equal(0, outbox.PurgeExpired()); // run age 6.5 d
        }

        using var reopened = Open();
        Assert.Equal((long)TimeSpan.FromDays(6.5).TotalMilliseconds, reopened.RunClockMilliseconds);
        _time.Advance(TimeSpan.FromDays(0.5) + TimeSpan.FromSeconds(1));
        Assert.Equal(1, reopened.PurgeExpired());
    }

    [Fact]
    public void PurgeExpired_Idle_SavesTheRunClockOnlyEveryIdleSaveInterval()
    {
        // An idle instrument purges every health period (30 s); saving the clock each time would write and fsync a page
        // for it alone. Read with a second connection, as after a crash (WAL: committed values only).
        long Saved()
        {
            using var connection = new SqliteConnection($"Data Source={DbPath};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM counters WHERE name = 'run_ms'";
            return (long)command.ExecuteScalar()!;
        }

        using var outbox = Open();
        var interval = SqliteOutbox.RunClockIdleSaveInterval;
        _time.Advance(interval - TimeSpan.FromSeconds(30));
        outbox.PurgeExpired();
        Assert.Equal(0, Saved());

        _time.Advance(TimeSpan.FromSeconds(30));
        outbox.PurgeExpired();
        Assert.Equal((long)interval.TotalMilliseconds, Saved());

        _time.Advance(TimeSpan.FromMinutes(1));
        Store(outbox, "stored"); // a stored row saves it at once
        Assert.Equal((long)(interval + TimeSpan.FromMinutes(1)).TotalMilliseconds, Saved());
    }

    [Fact]
    public void PurgeExpired_WallClockSetBack_RowNotEvictedByTheRunClockAlone()
    {
        using var outbox = Open();
        Store(outbox, "stamped-late");
        _time.StepWallClock(-TimeSpan.FromDays(30)); // an RTC reset: the stamp now lies in the future
        _time.Advance(MaxAge + TimeSpan.FromDays(1));

        Assert.Equal(0, outbox.PurgeExpired()); // both clocks must agree; the wall clock says −22 d
        Assert.Equal(1, outbox.GetStatistics().Depth);
    }

    [Fact]
    public void PurgeExpired_DeadLetterAfterWallClockStep_DroppedOnlyAfterMaxAgeOfRunningTime()
    {
        using var outbox = Open(maxAttempts: 1);
        Assert.True(outbox.RecordRefusal(Store(outbox, "refused").RowId, 0x87));
        _time.StepWallClock(TimeSpan.FromDays(40));

        outbox.PurgeExpired();
        Assert.Equal(1, outbox.GetStatistics().DeadLettered);
        _time.Advance(MaxAge + TimeSpan.FromSeconds(1));
        outbox.PurgeExpired();
        Assert.Equal(0, outbox.GetStatistics().DeadLettered);
    }

    [Fact]
    public void Open_FileFromABuildWithoutTheRunClock_ColumnsAddedOldRowsAgedByTheWallClockAndOldInsertsStillWork()
    {
        // Schema version 1 as builds before 2026-11-25 wrote it (the tables the run clock touches; the rest is created
        // by Open as for any version-1 file), with one queued row.
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE outbox(
                  id INTEGER PRIMARY KEY AUTOINCREMENT, msg_id TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL,
                  topic TEXT NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL, content_type TEXT, payload BLOB NOT NULL,
                  created_utc INTEGER NOT NULL, expires_utc INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error INTEGER);
                CREATE TABLE dead_letter(
                  id INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, kind INTEGER NOT NULL, topic TEXT NOT NULL,
                  payload BLOB NOT NULL, created_utc INTEGER NOT NULL, last_error INTEGER, moved_utc INTEGER NOT NULL);
                CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                INSERT INTO counters(name, value) VALUES ('seq', 1), ('evicted_total', 0);
                INSERT INTO outbox(msg_id, kind, topic, qos, retain, payload, created_utc)
                  VALUES ('{Guid.NewGuid()}', 0, 't', 1, 0, zeroblob(100), {Start.ToUnixTimeMilliseconds()});
                PRAGMA user_version = 1;
                """;
            command.ExecuteNonQuery();
        }

        using (var outbox = Open())
        {
            Assert.Null(outbox.RecoveredFromCorruption);
            Assert.Equal(1, outbox.GetStatistics().Depth);
            Store(outbox, "new-build");
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version";
            Assert.Equal(1L, command.ExecuteScalar()); // a rollback still opens the file
            command.CommandText = "SELECT created_run_ms IS NULL FROM outbox ORDER BY id";
            using (var reader = command.ExecuteReader())
            {
                Assert.True(reader.Read());
                Assert.Equal(1L, reader.GetInt64(0)); // the old build's row: no run clock
                Assert.True(reader.Read());
                Assert.Equal(0L, reader.GetInt64(0)); // this build's row has one
            }

            // What an older build writes names its columns and leaves the new one NULL.
            command.CommandText = $"""
                INSERT INTO outbox(msg_id, kind, topic, qos, retain, content_type, payload, created_utc, expires_utc)
                VALUES ('{Guid.NewGuid()}', 0, 't', 1, 0, NULL, zeroblob(100), {Start.ToUnixTimeMilliseconds()}, NULL)
                """;
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        using var reopened = Open();
        Assert.Equal(TimeSpan.Zero, reopened.GetStatistics().OldestRunAge); // the only row with a run clock is this build's, just stored
        Assert.Equal(TimeSpan.Zero, SqliteOutbox.Inspect(DbPath).Statistics!.OldestRunAge);
        _time.StepWallClock(MaxAge + TimeSpan.FromSeconds(1));
        Assert.Equal(2, reopened.PurgeExpired()); // the two rows without a run clock, by the wall clock alone
        Assert.Equal(1, reopened.GetStatistics().Depth);
    }
}

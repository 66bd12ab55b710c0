using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace XrfEdge.Messaging.Outbox;

/// <summary>
/// Durable store-and-forward queue on SQLite (reference §3.2): WAL with <c>synchronous=FULL</c> (one fsync per commit,
/// durable across power loss), a measurement's result and its outbox row committed in one transaction, rows deleted
/// only after the broker's PUBACK, sent oldest first. Bounded by <see cref="OutboxOptions.MaxBytes"/> and
/// <see cref="OutboxOptions.MaxAge"/>; evictions are counted (persistently) and logged, never silent. A full disk
/// refuses new rows with <see cref="OutboxFullException"/> and keeps the stored ones; a file damaged while open fails
/// every statement that meets the damage with <see cref="OutboxCorruptException"/> (logged once, 7028). Thread-safe
/// (one connection, one lock); one writing process per file (<c>&lt;db&gt;.lock</c>), any number of readers.
/// </summary>
public sealed class SqliteOutbox : IDisposable
{
    // Primary result codes, https://www.sqlite.org/rescode.html.
    private const int SqliteError = 1;
    private const int SqlitePermission = 3;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADatabase = 26;

    /// <summary>
    /// How long a reader (<see cref="ReadStoredResults"/>) waits for another process's lock before reporting the file
    /// busy, whole seconds: Microsoft.Data.Sqlite retries SQLITE_BUSY every 150 ms for its command timeout, 30 s by
    /// default, for which <c>outbox export</c> sat silent. 5 s, the default <see cref="OutboxOptions.BusyTimeout"/>: the
    /// service's own transactions end well within it, so a lock held longer is another process's and will not pass soon.
    /// </summary>
    private const int ReaderBusyWaitSeconds = 5;

    // HRESULT of ERROR_SHARING_VIOLATION, which .NET reports when flock(LOCK_EX|LOCK_NB) finds the file locked.
    private const int SharingViolation = unchecked((int)0x80070020);

    /// <summary>
    /// The schema this build writes, kept in the file's <c>PRAGMA user_version</c>. A file with a higher version was
    /// written by a newer release and is refused (never altered), so a rollback cannot corrupt or strand its backlog.
    /// </summary>
    public const int SchemaVersion = 1;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS outbox(
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          msg_id TEXT NOT NULL UNIQUE,
          kind INTEGER NOT NULL,
          topic TEXT NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
          content_type TEXT, payload BLOB NOT NULL,
          created_utc INTEGER NOT NULL, expires_utc INTEGER,
          attempts INTEGER NOT NULL DEFAULT 0, last_error INTEGER, created_run_ms INTEGER);
        CREATE INDEX IF NOT EXISTS outbox_evict ON outbox(kind, id);
        CREATE TABLE IF NOT EXISTS dead_letter(
          id INTEGER PRIMARY KEY, msg_id TEXT NOT NULL, kind INTEGER NOT NULL, topic TEXT NOT NULL,
          payload BLOB NOT NULL, created_utc INTEGER NOT NULL, last_error INTEGER, moved_utc INTEGER NOT NULL, moved_run_ms INTEGER);
        CREATE TABLE IF NOT EXISTS results(
          measurement_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, msg_id TEXT NOT NULL,
          created_utc INTEGER NOT NULL, detection BLOB NOT NULL, spectrum BLOB);
        CREATE INDEX IF NOT EXISTS results_seq ON results(seq);
        CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT OR IGNORE INTO counters(name, value) VALUES ('seq', 0), ('evicted_total', 0), ('pruned_unanalysed_total', 0);
        INSERT OR IGNORE INTO counters(name, value) VALUES ('sparkplug_bd_seq', 255);
        INSERT OR IGNORE INTO counters(name, value) VALUES ('run_ms', 0);
        """;

    /// <summary>
    /// Columns added to schema version 1 after files were written with it (ALTER TABLE … ADD COLUMN when missing):
    /// nullable, so an older build, which names every column it writes, still inserts rows (NULL) and reads the file;
    /// <see cref="SchemaVersion"/> stays 1 and a rollback keeps its backlog. NULL means "stored by a build without the
    /// column". Since 2026-11-25: the run clock (<see cref="RunClockMilliseconds"/>).
    /// </summary>
    private static readonly (string Table, string Column)[] AddedColumns =
        [("outbox", "created_run_ms"), ("dead_letter", "moved_run_ms")];

    /// <summary>Bytes one stored result counts against <see cref="OutboxOptions.ResultRetentionBytes"/>: its detection and spectrum.</summary>
    private const string ResultRowBytes = "length(detection) + COALESCE(length(spectrum), 0)";

    private const string ResultBytesSql = "SELECT COALESCE(SUM(" + ResultRowBytes + "), 0) FROM results";

    /// <summary>
    /// A results row holding an incomplete measurement's event (<see cref="EnqueueIncompleteMeasurement"/>) rather than a
    /// detection: the stored JSON starts with the event schema, which both payload builders write first.
    /// </summary>
    private const string IsEventRow = "substr(CAST(detection AS TEXT), 1, length('" + EventRowStart + "')) = '" + EventRowStart + "'";

    /// <summary>The schema of an incomplete measurement's event (xrf.measurement-event/1, docs/schemas), the one kind of non-detection a results row holds.</summary>
    public const string MeasurementEventSchema = "xrf.measurement-event/1";

    /// <summary>How a stored event's JSON starts: Utf8JsonWriter writes the schema first and without spaces.</summary>
    private const string EventRowStart = "{\"schema\":\"" + MeasurementEventSchema + "\"";

    /// <summary>
    /// Deletes the oldest results (rowid order) beyond the newest <c>$keep</c> and returns the bytes of each. The number
    /// to drop comes from <c>count(*)</c>, which SQLite answers from the small <c>results_seq</c> index, and the victims are
    /// read from the start of the rowid b-tree, so a prune touches the rows it deletes, not the rows it keeps. The form
    /// it replaced (2026-11-23), <c>rowid &lt;= (SELECT rowid … ORDER BY rowid DESC LIMIT 1 OFFSET $keep)</c>, stepped
    /// through all <c>$keep</c> kept rows on the table's leaf pages (spectra inline: about 1,250 pages, 5 MB, at the
    /// default 10,000) inside every measurement's write transaction.
    /// </summary>
    internal static readonly string PruneResultsByCountSql = PruneByCountSql(AwaitingReanalysisSql(null));

    private static string PruneByCountSql(string awaiting) =>
        "DELETE FROM results WHERE rowid IN (SELECT rowid FROM results ORDER BY rowid LIMIT max(0, (SELECT count(*) FROM results) - $keep)) RETURNING " + ResultRowBytes + ", " + awaiting;

    /// <summary>
    /// The SQL test of a results row awaiting re-analysis: an event with its spectrum whose <c>reason</c> starts with one
    /// of <paramref name="reasonPrefixes"/> (<see cref="OutboxOptions.ReanalysisReasonPrefixes"/>), or any event with its
    /// spectrum when null. <c>json_valid</c> first: <c>json_extract</c> fails the statement on damaged JSON, and this
    /// test runs inside every store's prune. A prefix is an SQL string literal (quotes doubled) compared with
    /// <c>substr</c>, so <c>%</c> and <c>_</c> match only themselves; its length is in characters (Unicode scalar values),
    /// as <c>substr</c> counts them: until 2026-11-24 (review) it was in UTF-16 units, and a prefix holding a character
    /// outside the BMP matched no row.
    /// </summary>
    private static string AwaitingReanalysisSql(IReadOnlyList<string>? reasonPrefixes)
    {
        var row = $"(spectrum IS NOT NULL AND {IsEventRow})";
        if (reasonPrefixes is null)
        {
            return row;
        }

        var reason = "(CASE WHEN json_valid(CAST(detection AS TEXT)) THEN json_extract(CAST(detection AS TEXT), '$.reason') END)";
        var any = reasonPrefixes.Count == 0
            ? "0"
            : string.Join(" OR ", reasonPrefixes.Select(p => string.Create(CultureInfo.InvariantCulture, $"substr({reason}, 1, {p.EnumerateRunes().Count()}) = '{p.Replace("'", "''", StringComparison.Ordinal)}'")));
        return $"({row} AND COALESCE({any}, 0))";
    }

    /// <summary>The partial index over the rows awaiting re-analysis (<see cref="AwaitingReanalysisIndexSql"/>).</summary>
    internal const string AwaitingReanalysisIndex = "results_awaiting_reanalysis";

    /// <summary>How the index's statement starts, before its WHERE (SQLite keeps it without IF NOT EXISTS in sqlite_master).</summary>
    private const string AwaitingReanalysisIndexStart = "CREATE INDEX " + AwaitingReanalysisIndex + " ON results(seq) WHERE ";

    /// <summary>
    /// A partial index holding exactly the rows <see cref="AwaitingReanalysisSql"/> selects, so that
    /// <see cref="GetStatistics"/> counts them from the index instead of reading every stored result (spectra included)
    /// under the lock: SQLite uses a partial index only for a query whose WHERE implies the index's, hence the count
    /// repeats the same text. Since 2026-11-24 (review). Why an index rather than a counter kept by each store: SQLite
    /// keeps it in the transaction that adds, replaces or prunes a row (exact after a crash, no code path to forget), a
    /// salvaged file gets it at open, and options changed between runs rebuild it (<see cref="EnsureAwaitingReanalysisIndex"/>).
    /// </summary>
    internal static string AwaitingReanalysisIndexSql(IReadOnlyList<string>? reasonPrefixes) =>
        AwaitingReanalysisIndexStart + AwaitingReanalysisSql(reasonPrefixes);

    /// <summary>
    /// <see cref="OutboxStatistics.AwaitingReanalysis"/> for <see cref="Inspect"/>, which does not know the service's
    /// <see cref="OutboxOptions.ReanalysisReasonPrefixes"/>: counted with the WHERE of the index the service made at its
    /// last open (the test it counts with), from the index alone; not counted in a file without one. The text is the
    /// file's own, run on the read-only connection; SQLite parsed it as one index expression when it read the schema.
    /// </summary>
    private static OutboxStatistics InspectAwaitingReanalysis(SqliteConnection connection, OutboxStatistics statistics)
    {
        if (AwaitingReanalysisIndexDefinition(connection) is not { } sql || !sql.StartsWith(AwaitingReanalysisIndexStart, StringComparison.Ordinal))
        {
            return statistics with { AwaitingReanalysisCounted = false };
        }

        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM results WHERE {sql[AwaitingReanalysisIndexStart.Length..]}";
        return statistics with { AwaitingReanalysis = command.ExecuteScalar() is long count ? count : 0 };
    }

    /// <summary>The statement the file holds for <see cref="AwaitingReanalysisIndex"/>, or null when it has none.</summary>
    private static string? AwaitingReanalysisIndexDefinition(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT sql FROM sqlite_master WHERE type = 'index' AND name = '{AwaitingReanalysisIndex}'";
        return command.ExecuteScalar() as string;
    }

    /// <summary>
    /// The count of <see cref="OutboxStatistics.AwaitingReanalysis"/>: its WHERE is the index's, verbatim, so SQLite
    /// answers it from <see cref="AwaitingReanalysisIndex"/> (ResultPruningCostTests pins the plan).
    /// </summary>
    internal static string AwaitingReanalysisCountSql(IReadOnlyList<string>? reasonPrefixes) =>
        "SELECT COUNT(*) FROM results WHERE " + AwaitingReanalysisSql(reasonPrefixes);

    /// <summary>
    /// Creates the partial index of the rows awaiting re-analysis for these options, or rebuilds it when the file holds
    /// one for other prefixes (an earlier run with other <see cref="OutboxOptions.ReanalysisReasonPrefixes"/>): a read
    /// of the results table once, at open, instead of at each health report. Files from before 2026-11-24 get it here too.
    /// A file that cannot take it (full: <see cref="OutboxOptions.MaxFileBytes"/> or the disk; busy) still opens, 7060:
    /// the count then reads the table as before 2026-11-24 (the planner uses an index only for its own test), and the
    /// next open tries again. Damage too (the file passed quick_check just before): the next statement that meets it
    /// reports it as any other (<see cref="Damaged"/>), and the reopen moves the file aside and salvages it.
    /// </summary>
    private static void EnsureAwaitingReanalysisIndex(SqliteConnection connection, OutboxOptions options, ILogger log)
    {
        var wanted = AwaitingReanalysisIndexSql(options.ReanalysisReasonPrefixes);
        if (string.Equals(AwaitingReanalysisIndexDefinition(connection), wanted, StringComparison.Ordinal))
        {
            return;
        }

        using var command = connection.CreateCommand();
        command.CommandText = $"BEGIN IMMEDIATE; DROP INDEX IF EXISTS {AwaitingReanalysisIndex}; {wanted}; COMMIT;";
        try
        {
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
            {
                command.CommandText = "ROLLBACK";
                command.ExecuteNonQuery();
            }

            Log.AwaitingReanalysisIndexNotBuilt(log, options.DatabasePath, ex.Message);
        }
    }

    /// <summary>
    /// The longest a write that must not wait (<c>waitForLock: false</c>: the drainer's acknowledgement loop) waits for
    /// the database's write lock or the outbox's own lock: long enough for another commit of this process to end (one
    /// fsync), short against <see cref="OutboxOptions.BusyTimeout"/> (5 s), which held up every acknowledgement behind it.
    /// </summary>
    public static readonly TimeSpan NoWaitLockTimeout = TimeSpan.FromMilliseconds(50);

    private readonly OutboxOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly FileStream _instanceLock;
    private long _bytes;
    private long _resultBytes;
    private long _refused;
    private bool _disposed;
    private int _damaged;
    private readonly CancellationTokenSource _damagedSource = new();
    private OutboxCorruptException? _damage;

    // Rows awaiting re-analysis (event rows with a spectrum) that the current write transaction pruned; logged after
    // its commit (Committing), 7048.
    private int _prunedUnanalysed;

    // Times rows left the queue and left it within the re-analysis share (ReanalysisRoomMade).
    private long _reanalysisRoomMade;

    // AwaitingReanalysisSql for these options, and the prune by count that counts such rows.
    private readonly string _awaitingReanalysis;
    private readonly string _pruneByCount;
    private readonly string _countAwaitingReanalysis;

    // The run clock (RunClockMilliseconds): the persisted value at open, and the monotonic timestamp it was read at.
    private readonly long _runBaseMs;
    private readonly long _runStartTimestamp;

    // The run clock's value at its last save (under _gate); PurgeExpired saves it only RunClockIdleSaveInterval later.
    private long _runSavedMs;

    /// <summary>
    /// How often a purge with nothing else to write saves the run clock: an idle instrument would otherwise write (and
    /// fsync) a page every health period (30 s) for the clock alone, wear an SD card does not need. A crash loses at most
    /// this much run time while the purge runs (the publisher purges while connected; offline and idle, the time since
    /// the last stored row); rows are then kept that much longer, never evicted sooner. Stored rows save it anyway.
    /// </summary>
    internal static readonly TimeSpan RunClockIdleSaveInterval = TimeSpan.FromMinutes(10);

    private SqliteOutbox(OutboxOptions options, ILogger logger, TimeProvider time, SqliteConnection connection, FileStream instanceLock, string? recoveredFrom)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _connection = connection;
        _instanceLock = instanceLock;
        RecoveredFromCorruption = recoveredFrom;
        _awaitingReanalysis = AwaitingReanalysisSql(options.ReanalysisReasonPrefixes);
        _pruneByCount = PruneByCountSql(_awaitingReanalysis);
        _countAwaitingReanalysis = AwaitingReanalysisCountSql(options.ReanalysisReasonPrefixes);
        _bytes = Scalar("SELECT COALESCE(SUM(length(payload)), 0) FROM outbox");
        _resultBytes = Scalar(ResultBytesSql);
        _runBaseMs = Scalar("SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'run_ms'");
        _runStartTimestamp = time.GetTimestamp();
        _runSavedMs = _runBaseMs;
    }

    /// <summary>
    /// The outbox's run clock: milliseconds that this file has been open for writing, summed over every run (the
    /// counter <c>run_ms</c>, brought up to date by every write transaction that stores or dead-letters rows, by a purge
    /// <see cref="RunClockIdleSaveInterval"/> after the last save, and at <see cref="Dispose"/>). It advances with the
    /// monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), so a wall clock that is set, stepped by NTP or wrong
    /// after a power cut does not move it; time the service was not running (the instrument off or in storage) is not
    /// counted, and a crash loses at most the time since the last save. Each queued row records it (<c>created_run_ms</c>), and <see cref="PurgeExpired"/> evicts a row for
    /// <see cref="OutboxOptions.MaxAge"/> only when both clocks say it is that old. Since 2026-11-25: before, the wall
    /// clock alone decided, and a Raspberry Pi (no real-time clock) that measured offline after weeks in storage stamped
    /// its results with the time it was last shut down, so NTP's correction made them look weeks old and the next purge
    /// evicted them before they were ever sent.
    /// </summary>
    public long RunClockMilliseconds => _runBaseMs + (long)_time.GetElapsedTime(_runStartTimestamp).TotalMilliseconds;

    /// <summary>Brings the persisted run clock up to date inside the caller's write transaction; returns its value.</summary>
    private long PersistRunClock()
    {
        var run = RunClockMilliseconds;
        using var update = _connection.CreateCommand();
        update.CommandText = "UPDATE counters SET value = max(value, $run) WHERE name = 'run_ms'";
        update.Parameters.AddWithValue("$run", run);
        update.ExecuteNonQuery();
        _runSavedMs = run;
        return run;
    }

    /// <summary>
    /// Set when the database failed its integrity check at start: the path it was moved to; or the database path itself
    /// when the existing file held no outbox (0 bytes).
    /// </summary>
    public string? RecoveredFromCorruption { get; }

    /// <summary>The database file.</summary>
    public string DatabasePath => _options.DatabasePath;

    /// <summary>
    /// True once a statement failed with SQLITE_CORRUPT or SQLITE_NOTADB (<see cref="OutboxCorruptException"/>): the file
    /// was damaged while open, and only closing and reopening it (<see cref="Open"/> moves it aside and salvages it) helps.
    /// </summary>
    public bool IsDamaged => Volatile.Read(ref _damaged) != 0;

    /// <summary>
    /// Cancelled (asynchronously, never under the outbox's lock) the first time the file is found damaged while open,
    /// by whichever caller met it (a store, the drainer's read, a health figure); <see cref="Damage"/> then says how.
    /// Lets the owner restart at once instead of at the next store, which would otherwise be lost.
    /// </summary>
    public CancellationToken Damaged => _damagedSource.Token;

    /// <summary>The first corruption error met while open, or null.</summary>
    public OutboxCorruptException? Damage => Volatile.Read(ref _damage);

    /// <summary>
    /// Raised when rows left the queue (delivered, expired, dead-lettered) and the queued bytes are then within the share
    /// a re-analysis may fill (3/4 of <see cref="OutboxOptions.MaxBytes"/>, see <see cref="MakeRoom"/>): a re-analysis
    /// refused for want of room may be stored now. Raised after the outbox's lock is released, on the thread that
    /// removed the rows (the drainer's); a handler must return at once. One that throws is logged (7059) and does not
    /// reach the caller, which sees its removal done (since 2026-11-24, review). Since 2026-11-24.
    /// </summary>
    public event EventHandler? ReanalysisRoomMade;

    /// <summary>
    /// How often <see cref="ReanalysisRoomMade"/> was raised since the outbox was opened: read before a store, compared
    /// after a refusal, it tells whether room was made in between (when a handler set up after the refusal would have
    /// missed the event).
    /// </summary>
    public long ReanalysisRoomMadeCount => Interlocked.Read(ref _reanalysisRoomMade);

    /// <summary>Free space on the database's file system, MiB (null when it cannot be read).</summary>
    public double? DiskFreeMebibytes
    {
        get
        {
            try
            {
                return new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(_options.DatabasePath))!).AvailableFreeSpace / (1024.0 * 1024.0);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Opens (creating if needed) the outbox and runs <c>PRAGMA quick_check</c>. Only a damaged file (SQLITE_CORRUPT,
    /// SQLITE_NOTADB or a failed check) is moved aside, with its <c>-wal</c>/<c>-shm</c>, as <c>*.corrupt-&lt;utc&gt;</c>
    /// and an empty outbox started (measuring matters more than the backlog). An existing file without the outbox schema
    /// (0 bytes, e.g. after a crash or a full disk at creation) is a recovery too. After either, the seq continues above
    /// any value the lost file could have reached.
    /// </summary>
    /// <exception cref="IOException">
    /// Another process already has this outbox open (see <see cref="AcquireInstanceLock"/>), the file was written by a
    /// newer schema (<see cref="SchemaVersion"/>), or it could not be opened for another reason (locked, read-only, disk
    /// full, I/O error). The file is left untouched so that a restart (systemd) finds its backlog once the cause is gone.
    /// </exception>
    public static SqliteOutbox Open(OutboxOptions options, ILogger<SqliteOutbox>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        SQLitePCL.Batteries_V2.Init();
        ILogger log = logger ?? (ILogger)NullLogger.Instance;
        var time = timeProvider ?? TimeProvider.System;
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var instanceLock = AcquireInstanceLock(options.DatabasePath);
        try
        {
            return OpenLocked(options, log, time, instanceLock);
        }
        catch
        {
            instanceLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes the exclusive lock that makes this process the outbox's only writer: <c>flock(LOCK_EX|LOCK_NB)</c> on
    /// <c>&lt;db&gt;.lock</c> (.NET's <see cref="FileShare.None"/> on Unix). Two writers would each drain, delete and
    /// evict the same rows while keeping separate byte counts, so one evicts rows the other has already freed. A
    /// separate file, because closing any descriptor of the database itself would drop SQLite's own POSIX locks
    /// (sqlite.org/howtocorrupt.html §2.2). The kernel releases it when the process dies, so a crash never blocks the
    /// restart; readers (<see cref="Inspect"/>, <c>sqlite3</c>) do not take it.
    /// </summary>
    private static FileStream AcquireInstanceLock(string databasePath)
    {
        var lockPath = databasePath + ".lock";
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex.HResult == SharingViolation)
        {
            throw new IOException(
                $"Outbox '{databasePath}' is already open in another process (it holds '{lockPath}'): a second service instance " +
                "or a hand-started `xrfedge run` on the same profile. Stop that process first; the file was left untouched.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Outbox '{databasePath}': cannot create or lock '{lockPath}' ({ex.Message}); the folder must be writable by the service.", ex);
        }
    }

    private static SqliteOutbox OpenLocked(OutboxOptions options, ILogger log, TimeProvider time, FileStream instanceLock)
    {
        var existed = File.Exists(options.DatabasePath);
        string? recovered = null;
        SqliteConnection connection;
        bool hadSchema;
        try
        {
            (connection, hadSchema) = OpenChecked(options);
        }
        catch (Exception ex) when (IsCorruption(ex))
        {
            var stamp = time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            recovered = $"{options.DatabasePath}.corrupt-{stamp}";
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                if (File.Exists(options.DatabasePath + suffix))
                {
                    File.Move(options.DatabasePath + suffix, recovered + suffix, overwrite: true);
                }
            }

            Log.OutboxCorruptionRecovered(log, options.DatabasePath, recovered, ex.Message);
            (connection, _) = OpenOrExplain(options, existed: false);
            hadSchema = false;
            Salvage(recovered, connection, options.DatabasePath, log);
        }
        catch (SqliteException ex)
        {
            throw Unavailable(options, existed, ex);
        }

        if (existed && !hadSchema && recovered is null)
        {
            // A file we did not create ourselves that holds no outbox: its rows and counter are gone (0 bytes after a
            // crash or a full disk), so it is a recovery, not a fresh start.
            recovered = options.DatabasePath;
            Log.OutboxFoundEmpty(log, options.DatabasePath);
        }

        EnsureAwaitingReanalysisIndex(connection, options, log);
        var outbox = new SqliteOutbox(options, log, time, connection, instanceLock, recovered);
        if (recovered is not null)
        {
            // The lost file's counter is unreadable; the wall clock in milliseconds is far above any seq a device can
            // reach at one per measurement, so consumers still see seq grow (with a visible gap).
            outbox.Execute($"UPDATE counters SET value = max(value, {time.GetUtcNow().ToUnixTimeMilliseconds()}) WHERE name = 'seq'");
        }

        return outbox;
    }

    /// <summary>
    /// True for the errors that mean the file itself is damaged (SQLITE_CORRUPT 11, SQLITE_NOTADB 26, a failed
    /// <c>quick_check</c>); every other error (busy, read-only, full, I/O) leaves a healthy file that must be kept.
    /// </summary>
    internal static bool IsCorruption(Exception exception) =>
        exception is InvalidDataException
        || exception is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) is SqliteCorrupt or SqliteNotADatabase;

    /// <summary>
    /// Reads an outbox file read-only (safe while the service runs; never moves or repairs it): its figures and the
    /// result of <c>PRAGMA quick_check</c> ("ok" when intact). On a damaged file the figures are null when the damage
    /// makes them unreadable; the integrity text then says why.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file (or its folder) does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an outbox database (not SQLite, or without the outbox table).</exception>
    /// <exception cref="OutboxUnavailableException">
    /// The file could not be opened or read for a reason that says nothing about its contents, as for
    /// <see cref="ReadStoredResults"/> (until 2026-11-24 a raw <see cref="SqliteException"/>, or "not an XrfEdge outbox
    /// database" when met after the check, and a directory "does not exist").
    /// </exception>
    public static (OutboxStatistics? Statistics, string Integrity) Inspect(string databasePath, TimeProvider? timeProvider = null)
    {
        RequireFile(databasePath);
        SQLitePCL.Batteries_V2.Init();
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = ReaderBusyWaitSeconds,
        }.ToString());
        try
        {
            // sqlite3_open_v2 itself fails on a file this user may not read (SQLITE_CANTOPEN), before any statement.
            connection.Open();
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw Unreadable(databasePath, ex);
        }

        long Read(string sql) => ReadNullable(sql) ?? 0;

        long? ReadNullable(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return command.ExecuteScalar() as long?;
        }

        string integrity;
        try
        {
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA quick_check";
            integrity = check.ExecuteScalar() as string ?? "no answer";
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) == SqliteCorrupt)
        {
            return (null, ex.Message);
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) == SqliteNotADatabase)
        {
            throw new InvalidDataException($"'{databasePath}' is not an XrfEdge outbox database: it is not an SQLite database ({Describe(ex)}).", ex);
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw Unreadable(databasePath, ex);
        }

        long depth;
        try
        {
            depth = Read("SELECT COUNT(*) FROM outbox");
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw Unreadable(databasePath, ex);
        }
        catch (SqliteException ex) when (integrity == "ok")
        {
            throw new InvalidDataException($"'{databasePath}' is not an XrfEdge outbox database (integrity: {integrity}): {ex.Message}", ex);
        }
        catch (SqliteException)
        {
            return (null, integrity);
        }

        try
        {
            var oldest = depth == 0 ? TimeSpan.Zero : now - DateTimeOffset.FromUnixTimeMilliseconds(Read("SELECT MIN(created_utc) FROM outbox"));
            var statistics = new OutboxStatistics(
                depth,
                Read("SELECT COALESCE(SUM(length(payload)), 0) FROM outbox"),
                oldest < TimeSpan.Zero ? TimeSpan.Zero : oldest,
                Read("SELECT value FROM counters WHERE name = 'evicted_total'"),
                Read("SELECT COUNT(*) FROM dead_letter"),
                0,
                Read("SELECT value FROM counters WHERE name = 'seq'"),
                null)
            {
                PrunedUnanalysedTotal = Read("SELECT value FROM counters WHERE name = 'pruned_unanalysed_total'"),
                OldestRunAge = HasColumn(connection, "outbox", "created_run_ms")
                    ? RunAge(depth, ReadNullable("SELECT MIN(created_run_ms) FROM outbox"), ReadNullable("SELECT value FROM counters WHERE name = 'run_ms'"))
                    : null,
            };
            return (InspectAwaitingReanalysis(connection, statistics), integrity);
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw Unreadable(databasePath, ex);
        }
        catch (SqliteException) when (integrity != "ok")
        {
            // A damaged page under one of the other tables: the check's verdict is the answer.
            return (null, integrity);
        }
    }

    /// <summary>
    /// Reads the stored results (the <c>results</c> table: the <c>get_spectrum</c> archive) of an outbox file read-only,
    /// oldest first by insertion (rowid, see <see cref="PruneResults"/>), for an export. Safe while the service runs: it
    /// opens the file as <see cref="Inspect"/> does, never takes the writer's lock and never writes; WAL gives it one
    /// consistent snapshot for the whole enumeration, so rows the service adds or prunes meanwhile are not seen. The call
    /// checks the file and closes it again; each enumeration opens it for as long as it runs, so rows never enumerated
    /// hold nothing open. <c>Detection</c> is the detection payload of a completed measurement or the <c>xrf.measurement-event/1</c> payload
    /// of an incomplete one; <c>Spectrum</c> the <c>xrfedge.v1.Spectrum</c> protobuf, null when none was stored.
    /// </summary>
    /// <param name="databasePath">The outbox file.</param>
    /// <param name="createdSince">Only rows stored at or after this time (null = all).</param>
    /// <exception cref="FileNotFoundException">The file (or its folder) does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not an outbox database (not SQLite, SQLITE_NOTADB; no readable <c>results</c> table or column), or
    /// was written by a newer schema than <see cref="SchemaVersion"/>. Thrown before the first row. A file damaged under
    /// the table throws <see cref="SqliteException"/> (SQLITE_CORRUPT) before the first row or while enumerating, after
    /// the rows before the damage.
    /// </exception>
    /// <exception cref="OutboxUnavailableException">
    /// The file could not be opened or read for a reason that says nothing about its contents: a directory, no
    /// permission (SQLITE_CANTOPEN), a lock held by another process for longer than 5 s (SQLITE_BUSY/LOCKED,
    /// <see cref="OutboxUnavailableException.IsBusy"/>), an I/O error, a read-only medium, no memory. Before the first row
    /// or while enumerating. Until 2026-11-24 all of these were reported as "not an XrfEdge outbox database".
    /// </exception>
    public static IEnumerable<(long RowId, string MeasurementId, long Seq, string MsgId, DateTimeOffset Created, byte[] Detection, byte[]? Spectrum)> ReadStoredResults(
        string databasePath, DateTimeOffset? createdSince = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        RequireFile(databasePath);
        SQLitePCL.Batteries_V2.Init();
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = ReaderBusyWaitSeconds,
        }.ToString();

        // The check's own connection, closed before returning: the rows open theirs when enumerated, so a caller that
        // never enumerates them (the export when its output cannot be created) leaves no file open.
        using var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA user_version";
            var version = (long)check.ExecuteScalar()!;
            if (version > SchemaVersion)
            {
                throw new InvalidDataException(
                    $"'{databasePath}' has outbox schema version {version}, newer than the {SchemaVersion} this build understands " +
                    "(written by a newer XrfEdge release); use that release to read it.");
            }

            check.CommandText = "SELECT measurement_id, seq, msg_id, created_utc, detection, spectrum FROM results LIMIT 0";
            check.ExecuteNonQuery();
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) == SqliteNotADatabase)
        {
            throw new InvalidDataException($"'{databasePath}' is not an XrfEdge outbox database: it is not an SQLite database ({Describe(ex)}).", ex);
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) == SqliteError)
        {
            // SQLITE_ERROR is what preparing a statement on a missing table or column gives: the schema is not ours.
            throw new InvalidDataException($"'{databasePath}' is not an XrfEdge outbox database: it has no readable results table ({Describe(ex)}).", ex);
        }
        catch (SqliteException ex) when (IsUnavailable(ex))
        {
            throw Unreadable(databasePath, ex);
        }

        return ReadStoredResultRows(databasePath, connectionString, createdSince);
    }

    private static IEnumerable<(long, string, long, string, DateTimeOffset, byte[], byte[]?)> ReadStoredResultRows(
        string databasePath, string connectionString, DateTimeOffset? createdSince)
    {
        using (var connection = new SqliteConnection(connectionString))
        {
            try
            {
                connection.Open();
            }
            catch (SqliteException ex) when (IsUnavailable(ex))
            {
                throw Unreadable(databasePath, ex);
            }

            using var command = connection.CreateCommand();
            command.CommandText = "SELECT rowid, measurement_id, seq, msg_id, created_utc, detection, spectrum FROM results WHERE created_utc >= $since ORDER BY rowid";
            command.Parameters.AddWithValue("$since", createdSince?.ToUnixTimeMilliseconds() ?? long.MinValue);

            // A connection of its own, after the check's: a lock or an I/O error can still meet this read.
            SqliteDataReader reader;
            try
            {
                reader = command.ExecuteReader();
            }
            catch (SqliteException ex) when (IsUnavailable(ex))
            {
                throw Unreadable(databasePath, ex);
            }

            using (reader)
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = reader.Read();
                    }
                    catch (SqliteException ex) when (IsUnavailable(ex))
                    {
                        throw Unreadable(databasePath, ex);
                    }

                    if (!more)
                    {
                        yield break;
                    }

                    yield return (
                        reader.GetInt64(0),
                        reader.GetString(1),
                        reader.GetInt64(2),
                        reader.GetString(3),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                        reader.GetFieldValue<byte[]>(5),
                        reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6));
                }
            }
        }
    }

    /// <summary>
    /// Throws unless <paramref name="databasePath"/> names something a reader can hand to SQLite: a missing file, or one
    /// whose folder is missing, as <see cref="FileNotFoundException"/>; a directory as
    /// <see cref="OutboxUnavailableException"/> (SQLite itself opens one and then fails its first read with "disk I/O
    /// error", SQLITE_IOERR_READ 266, which would send the operator after a failing disk). Whatever else stops the look
    /// (no permission on a folder) is left to SQLite's open, which reports it as SQLITE_CANTOPEN.
    /// </summary>
    private static void RequireFile(string databasePath)
    {
        FileAttributes attributes;
        try
        {
            attributes = File.GetAttributes(databasePath);
        }
        catch (FileNotFoundException ex)
        {
            throw new FileNotFoundException($"Outbox database '{databasePath}' does not exist.", databasePath, ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            // .NET reports ENOTDIR (a file where the folder should be) as a missing folder too.
            var folder = Path.GetDirectoryName(Path.GetFullPath(databasePath));
            throw new FileNotFoundException(
                File.Exists(folder)
                    ? $"Outbox database '{databasePath}' does not exist: '{folder}' is a file, not a folder."
                    : $"Outbox database '{databasePath}' does not exist: its folder '{folder}' does not exist either.",
                databasePath,
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if ((attributes & FileAttributes.Directory) != 0)
        {
            throw new OutboxUnavailableException($"Outbox database '{databasePath}' cannot be opened: it is a directory, not a file.", databasePath, isBusy: false, null);
        }
    }

    /// <summary>
    /// True for a reader's SQLite error that says nothing about the file's contents: neither damage
    /// (<see cref="IsCorruption"/>) nor SQLITE_ERROR, which a statement on a table or column the file lacks gives.
    /// </summary>
    private static bool IsUnavailable(SqliteException exception) =>
        !IsCorruption(exception) && (exception.SqliteErrorCode & 0xFF) != SqliteError;

    /// <summary>
    /// A reader's SQLite error that says nothing about the file's contents (neither damage, <see cref="IsCorruption"/>,
    /// nor a schema that is not ours), named for what it is: the one classification of <see cref="Open"/> (damage, or
    /// "could not be opened" and left untouched), told to the operator of a reader.
    /// </summary>
    internal static OutboxUnavailableException Unreadable(string databasePath, SqliteException cause) =>
        (cause.SqliteErrorCode & 0xFF) switch
        {
            SqliteBusy or SqliteLocked => new OutboxUnavailableException(
                $"Outbox database '{databasePath}' is busy: another process holds a lock on it ({Describe(cause)}). Nothing is " +
                "known to be wrong with the file; try again once that process has let go of it.",
                databasePath,
                isBusy: true,
                cause),
            SqliteCantOpen or SqlitePermission => new OutboxUnavailableException(
                $"Outbox database '{databasePath}' cannot be opened ({Describe(cause)}). Nothing is known to be wrong with the " +
                "file; check that this user may read it and its folder.",
                databasePath,
                isBusy: false,
                cause),
            SqliteReadOnly => new OutboxUnavailableException(
                $"Outbox database '{databasePath}' cannot be read by this user ({Describe(cause)}): even a reader of a WAL " +
                "database creates or writes its -shm file beside it, which this user may not. Nothing is known to be wrong " +
                "with the file; run as the service's user.",
                databasePath,
                isBusy: false,
                cause),
            _ => new OutboxUnavailableException(
                $"Outbox database '{databasePath}' could not be read ({Describe(cause)}), a fault of the storage or of this " +
                "process. Nothing is known to be wrong with the file; do not move it aside.",
                databasePath,
                isBusy: false,
                cause),
        };

    /// <summary>
    /// "SQLite error 5: database is locked" (with the extended result code when it says more, "SQLite error 10/266:
    /// disk I/O error"): SQLite's own code and text without Microsoft.Data.Sqlite's wrapping ("SQLite Error 5:
    /// 'database is locked'.").
    /// </summary>
    private static string Describe(SqliteException exception)
    {
        var primary = exception.SqliteErrorCode & 0xFF;
        var code = exception.SqliteExtendedErrorCode is var extended && extended != primary && (extended & 0xFF) == primary
            ? string.Create(CultureInfo.InvariantCulture, $"{primary}/{extended}")
            : primary.ToString(CultureInfo.InvariantCulture);
        var wrapped = $"SQLite Error {exception.SqliteErrorCode.ToString(CultureInfo.InvariantCulture)}: '";
        var text = exception.Message.StartsWith(wrapped, StringComparison.Ordinal) && exception.Message.EndsWith("'.", StringComparison.Ordinal)
            ? exception.Message[wrapped.Length..^2]
            : exception.Message;
        return $"SQLite error {code}: {text}";
    }

    /// <summary>
    /// Commits a measurement's result and its outbox row in one transaction, then returns. <paramref name="buildMessages"/>
    /// receives the seq and msg_id assigned inside the transaction so the payload can carry them; it returns the detection
    /// message first (also stored as the result) and optionally companions (e.g. a Sparkplug copy), each with its own msg_id.
    /// </summary>
    /// <exception cref="OutboxFullException">The disk (or file cap) is full, or the byte cap is reached under <see cref="OutboxFullPolicy.RejectNew"/>; nothing was stored.</exception>
    /// <exception cref="OutboxCorruptException">The file was damaged while open (SQLITE_CORRUPT/SQLITE_NOTADB); nothing was stored, and only reopening helps.</exception>
    public OutboxReceipt EnqueueMeasurement(MeasurementRecord record, Func<OutboxStamp, IReadOnlyList<OutboxMessage>> buildMessages)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(buildMessages);
        return Insert(buildMessages, record, sequenced: true);
    }

    /// <summary>
    /// Commits a measurement that did not complete (aborted, analysis failed) but whose spectrum was acquired: its event
    /// message and its stored result (the event payload in <c>detection</c>, the spectrum protobuf for
    /// <c>get_spectrum</c>) in one transaction, then returns. It consumes no seq: detections' seq grows by exactly one
    /// per completed measurement (docs/mqtt.md §1), so the receipt's seq is 0 and the stored row's <c>seq</c> column holds
    /// the last seq assigned before it (0 before the first), shared with that detection's row. The row is pruned with
    /// the completed ones under <see cref="OutboxOptions.ResultRetention"/> and <see cref="OutboxOptions.ResultRetentionBytes"/>,
    /// oldest first by insertion.
    /// </summary>
    /// <exception cref="OutboxFullException">As for <see cref="EnqueueMeasurement"/>.</exception>
    /// <exception cref="OutboxCorruptException">As for <see cref="EnqueueMeasurement"/>.</exception>
    public OutboxReceipt EnqueueIncompleteMeasurement(MeasurementRecord record, OutboxMessage eventMessage)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(eventMessage);
        return Insert(_ => [eventMessage], record, sequenced: false);
    }

    /// <summary>Stores a non-measurement message (spectrum, command response, health history). Seq in the stamp is 0.</summary>
    /// <exception cref="OutboxFullException">As for <see cref="EnqueueMeasurement"/>.</exception>
    public OutboxReceipt Enqueue(OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Insert(_ => [message], null, sequenced: false);
    }

    /// <summary>
    /// Commits a scan's chunk of points (<paramref name="chunk"/>, the <c>scans/points</c> message) and, in the same
    /// transaction (one fsync for the chunk, none per point), a results row for each of <paramref name="failedPoints"/>:
    /// its event JSON and spectrum, as <see cref="EnqueueIncompleteMeasurement"/> stores a measurement, without a seq.
    /// The rows are pruned with the others under <see cref="OutboxOptions.ResultRetention"/> and
    /// <see cref="OutboxOptions.ResultRetentionBytes"/> (oldest first, in the same transaction), so a chunk with more
    /// failed points than the bounds hold keeps its newest ones. Since 2026-11-24; before, failed points' spectra were not stored.
    /// </summary>
    /// <exception cref="OutboxFullException">As for <see cref="EnqueueMeasurement"/>; nothing was stored.</exception>
    /// <exception cref="OutboxCorruptException">As for <see cref="EnqueueMeasurement"/>.</exception>
    public OutboxReceipt EnqueueScanChunk(OutboxMessage chunk, IReadOnlyList<IncompleteScanPoint> failedPoints)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentNullException.ThrowIfNull(failedPoints);
        return Insert(_ => [chunk], null, sequenced: false, failedPoints);
    }

    /// <summary>
    /// Replaces the stored events of failed scan points (<see cref="EnqueueScanChunk"/>) by their later analyses and
    /// queues the chunk <paramref name="buildChunk"/> makes of those still stored as events, in one transaction: a point
    /// is published again at most once however often this is called or the process stops, and never after its row was
    /// pruned. Returns the points replaced (and published); 0, with nothing queued, when none is stored as an event any
    /// more. The spectra stay (<c>get_spectrum</c>); the rows keep their place in the pruning order (rowid).
    /// </summary>
    /// <exception cref="OutboxFullException">As for <see cref="EnqueueMeasurement"/>; nothing was changed.</exception>
    /// <exception cref="OutboxCorruptException">As for <see cref="EnqueueMeasurement"/>.</exception>
    public int ReplaceIncompleteScanPoints(IReadOnlyList<ScanPointAnalysis> analyses, Func<IReadOnlyList<ScanPointAnalysis>, OutboxMessage> buildChunk)
    {
        ArgumentNullException.ThrowIfNull(analyses);
        ArgumentNullException.ThrowIfNull(buildChunk);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = _time.GetUtcNow();
            return Committing(() =>
            {
                var replaced = new List<ScanPointAnalysis>(analyses.Count);
                long resultDelta = 0;
                using var update = _connection.CreateCommand();
                update.CommandText = $"UPDATE results SET detection = $result WHERE measurement_id = $id AND spectrum IS NOT NULL AND {IsEventRow}";
                var id = update.Parameters.Add("$id", SqliteType.Text);
                var result = update.Parameters.Add("$result", SqliteType.Blob);
                using var before = _connection.CreateCommand();
                before.CommandText = $"SELECT length(detection) FROM results WHERE measurement_id = $id AND spectrum IS NOT NULL AND {IsEventRow}";
                var beforeId = before.Parameters.Add("$id", SqliteType.Text);
                foreach (var analysis in analyses)
                {
                    beforeId.Value = analysis.MeasurementId;
                    if (before.ExecuteScalar() is not long oldBytes)
                    {
                        continue; // pruned, or analysed already: not published again
                    }

                    id.Value = analysis.MeasurementId;
                    result.Value = analysis.Result;
                    update.ExecuteNonQuery();
                    resultDelta += analysis.Result.Length - oldBytes;
                    replaced.Add(analysis);
                }

                if (replaced.Count == 0)
                {
                    return (0, 0L, 0L, 0, 0L);
                }

                var message = buildChunk(replaced);
                var evicted = MakeRoom(message.Payload.Length, reanalysis: true);
                InsertOutboxRow(message, Guid.CreateVersion7(now), now);
                return (replaced.Count, (long)message.Payload.Length, evicted.Bytes, evicted.Rows, resultDelta);
            });
        }
    }

    /// <summary>Oldest rows with id greater than <paramref name="afterId"/>, at most <paramref name="max"/>.</summary>
    /// <param name="afterId">Exclusive lower bound on the row id (0 = from the start).</param>
    /// <param name="max">Most rows to return.</param>
    /// <param name="kinds">Only these kinds; null = all.</param>
    public IReadOnlyList<OutboxRow> ReadBatch(long afterId, int max, IReadOnlyCollection<OutboxKind>? kinds = null)
    {
        lock (_gate)
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using var command = _connection.CreateCommand();
                command.CommandText = "SELECT id, msg_id, kind, topic, qos, retain, content_type, payload, created_utc, attempts FROM outbox WHERE id > $after" +
                    (kinds is null ? string.Empty : $" AND kind IN ({string.Join(',', kinds.Select(k => (int)k))})") + " ORDER BY id LIMIT $max";
                command.Parameters.AddWithValue("$after", afterId);
                command.Parameters.AddWithValue("$max", max);
                using var reader = command.ExecuteReader();
                var rows = new List<OutboxRow>();
                while (reader.Read())
                {
                    rows.Add(new OutboxRow(
                        reader.GetInt64(0),
                        Guid.Parse(reader.GetString(1)),
                        (OutboxKind)reader.GetInt32(2),
                        reader.GetString(3),
                        reader.GetInt32(4),
                        reader.GetInt32(5) != 0,
                        reader.IsDBNull(6) ? null : reader.GetString(6),
                        (byte[])reader.GetValue(7),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                        reader.GetInt32(9)));
                }

                return rows;
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
    }

    /// <summary>Deletes acknowledged rows in one transaction (called with batches of PUBACKed ids).</summary>
    public void Delete(IReadOnlyCollection<long> ids) => Delete(ids, waitForLock: true);

    /// <summary>
    /// <see cref="Delete(IReadOnlyCollection{long})"/>; with <paramref name="waitForLock"/> false it does not wait for a
    /// write lock held elsewhere (<see cref="NoWaitLockTimeout"/>) but fails at once with SQLITE_BUSY (5), which its caller
    /// retries later (the drainer's acknowledgement loop, since 2026-11-24).
    /// </summary>
    /// <exception cref="SqliteException">The write failed: SQLITE_BUSY when another connection holds the write lock.</exception>
    public void Delete(IReadOnlyCollection<long> ids, bool waitForLock)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return;
        }

        bool roomMade;
        EnterGate(waitForLock);
        try
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var freed = InWriteTransaction(waitForLock, () =>
                {
                    using var command = _connection.CreateCommand();
                    command.CommandText = "DELETE FROM outbox WHERE id = $id RETURNING length(payload)";
                    var id = command.Parameters.Add("$id", SqliteType.Integer);
                    long bytes = 0;
                    foreach (var rowId in ids)
                    {
                        id.Value = rowId;
                        if (command.ExecuteScalar() is long length)
                        {
                            bytes += length;
                        }
                    }

                    return bytes;
                });
                _bytes -= freed;
                roomMade = freed > 0 && WithinReanalysisShare();
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
        finally
        {
            _gate.Exit();
        }

        if (roomMade)
        {
            RaiseReanalysisRoomMade();
        }
    }

    /// <summary>Whether the queue is within the share of the cap a re-analysis may fill (<see cref="MakeRoom"/>); under the lock.</summary>
    private bool WithinReanalysisShare() => _bytes <= ReanalysisShareBytes;

    /// <summary>The bytes of queue a re-analysis may fill: 3/4 of <see cref="OutboxOptions.MaxBytes"/> (<see cref="MakeRoom"/>).</summary>
    private long ReanalysisShareBytes => _options.MaxBytes / 4 * 3;

    /// <summary>
    /// Raises <see cref="ReanalysisRoomMade"/> after the rows' removal committed, each handler on its own: one that throws
    /// is logged (7059) and the others still run. The caller (the drainer) must see its delete, refusal or purge as done:
    /// until 2026-11-24 (review) a handler's exception left Delete or RecordRefusal as if they had failed, so the drainer
    /// backed off a committed delete (7031) or took a dead-lettered row for a refusal not recorded.
    /// </summary>
    private void RaiseReanalysisRoomMade()
    {
        Interlocked.Increment(ref _reanalysisRoomMade);
        if (ReanalysisRoomMade is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler>())
        {
            try
            {
                handler(this, EventArgs.Empty);
            }
#pragma warning disable CA1031 // A subscriber's bug must not turn a committed removal into a failure its caller retries.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ReanalysisRoomMadeHandlerFailed(_logger, _options.DatabasePath, ex);
            }
        }
    }

    /// <summary>
    /// Records a refused publish (PUBACK reason ≥ 0x80). After <see cref="OutboxOptions.MaxAttempts"/> the row moves to the
    /// dead-letter table so it does not block the queue.
    /// </summary>
    /// <returns>True when the row was dead-lettered.</returns>
    public bool RecordRefusal(long rowId, int reasonCode) => RecordRefusal(rowId, reasonCode, waitForLock: true);

    /// <summary>
    /// <see cref="RecordRefusal(long, int)"/>; with <paramref name="waitForLock"/> false it does not wait for a write lock
    /// held elsewhere (<see cref="NoWaitLockTimeout"/>) but fails at once with SQLITE_BUSY (5), nothing written, which its
    /// caller handles like any failed write (the drainer holds the row back and sends it again, since 2026-11-24).
    /// </summary>
    /// <exception cref="SqliteException">The write failed: SQLITE_BUSY when another connection holds the write lock.</exception>
    public bool RecordRefusal(long rowId, int reasonCode, bool waitForLock)
    {
        bool dead;
        bool roomMade = false;
        EnterGate(waitForLock);
        try
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                (dead, var length) = InWriteTransaction(waitForLock, () =>
                {
                    using var update = _connection.CreateCommand();
                    update.CommandText = "UPDATE outbox SET attempts = attempts + 1, last_error = $reason WHERE id = $id RETURNING attempts, length(payload)";
                    update.Parameters.AddWithValue("$reason", reasonCode);
                    update.Parameters.AddWithValue("$id", rowId);
                    long attempts = 0;
                    long bytes = 0;
                    using (var reader = update.ExecuteReader())
                    {
                        if (reader.Read())
                        {
                            attempts = reader.GetInt64(0);
                            bytes = reader.GetInt64(1);
                        }
                    }

                    var moved = attempts >= _options.MaxAttempts;
                    if (moved)
                    {
                        using var move = _connection.CreateCommand();
                        move.CommandText = """
                            INSERT INTO dead_letter(id, msg_id, kind, topic, payload, created_utc, last_error, moved_utc, moved_run_ms)
                              SELECT id, msg_id, kind, topic, payload, created_utc, last_error, $now, $run FROM outbox WHERE id = $id;
                            DELETE FROM outbox WHERE id = $id;
                            """;
                        move.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
                        move.Parameters.AddWithValue("$run", PersistRunClock());
                        move.Parameters.AddWithValue("$id", rowId);
                        move.ExecuteNonQuery();
                    }

                    return (moved, bytes);
                });
                if (dead)
                {
                    _bytes -= length;
                    roomMade = WithinReanalysisShare();
                }
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
        finally
        {
            _gate.Exit();
        }

        if (roomMade)
        {
            RaiseReanalysisRoomMade();
        }

        return dead;
    }

    /// <summary>
    /// Evicts rows past their expiry or <see cref="OutboxOptions.MaxAge"/>; returns how many (also added to
    /// <c>evicted_total</c>). A row is past <see cref="OutboxOptions.MaxAge"/> when it is that old by the wall clock and
    /// also by the run clock (<see cref="RunClockMilliseconds"/>; rows stored by a build without it, by the wall clock
    /// alone), so a wall clock corrected forward (NTP after a start without a real-time clock) evicts nothing by itself.
    /// Also bounds the dead-letter table, which nothing else does (a broker that refuses every publish, e.g. an ACL,
    /// moves every result there): dead letters moved more than <see cref="OutboxOptions.MaxAge"/> ago (both clocks) are
    /// dropped, then the oldest ones while queued and dead-letter payloads together exceed
    /// <see cref="OutboxOptions.MaxBytes"/>. Queued rows are never dropped for dead letters. Drops are logged (7027).
    /// </summary>
    public int PurgeExpired()
    {
        int expired;
        bool roomMade;
        lock (_gate)
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var now = _time.GetUtcNow();
                var (count, freed, deadDropped) = InWriteTransaction(() =>
                {
                    var run = RunClockMilliseconds;
                    if (run - _runSavedMs >= (long)RunClockIdleSaveInterval.TotalMilliseconds)
                    {
                        run = PersistRunClock();
                    }

                    var oldestRun = run - (long)_options.MaxAge.TotalMilliseconds;
                    using var command = _connection.CreateCommand();
                    command.CommandText = "DELETE FROM outbox WHERE (created_utc < $oldest AND (created_run_ms IS NULL OR created_run_ms < $oldestRun)) " +
                                          "OR (expires_utc IS NOT NULL AND expires_utc < $now) RETURNING length(payload)";
                    command.Parameters.AddWithValue("$oldest", (now - _options.MaxAge).ToUnixTimeMilliseconds());
                    command.Parameters.AddWithValue("$oldestRun", oldestRun);
                    command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                    var rows = 0;
                    long bytes = 0;
                    using (var reader = command.ExecuteReader())
                    {
                        while (reader.Read())
                        {
                            rows++;
                            bytes += reader.GetInt64(0);
                        }
                    }

                    if (rows > 0)
                    {
                        AddEvicted(rows);
                    }

                    return (rows, bytes, DropDeadLetters(now, oldestRun, _bytes - bytes));
                });
                _bytes -= freed;
                if (count > 0)
                {
                    Log.OutboxRowsExpired(_logger, count, _options.MaxAge.TotalDays);
                }

                if (deadDropped > 0)
                {
                    Log.DeadLettersDropped(_logger, deadDropped, _options.MaxAge.TotalDays, _options.MaxBytes);
                }

                expired = count;
                roomMade = freed > 0 && WithinReanalysisShare();
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }

        if (roomMade)
        {
            RaiseReanalysisRoomMade();
        }

        return expired;
    }

    /// <summary>The dead-letter part of <see cref="PurgeExpired"/>, inside its transaction; returns the rows dropped.</summary>
    private int DropDeadLetters(DateTimeOffset now, long oldestRun, long queuedBytes)
    {
        using var aged = _connection.CreateCommand();
        aged.CommandText = "DELETE FROM dead_letter WHERE moved_utc < $oldest AND (moved_run_ms IS NULL OR moved_run_ms < $oldestRun)";
        aged.Parameters.AddWithValue("$oldest", (now - _options.MaxAge).ToUnixTimeMilliseconds());
        aged.Parameters.AddWithValue("$oldestRun", oldestRun);
        var dropped = aged.ExecuteNonQuery();

        var excess = queuedBytes + Scalar("SELECT COALESCE(SUM(length(payload)), 0) FROM dead_letter") - _options.MaxBytes;
        if (excess <= 0)
        {
            return dropped;
        }

        var victims = new List<long>();
        using (var select = _connection.CreateCommand())
        {
            select.CommandText = "SELECT id, length(payload) FROM dead_letter ORDER BY moved_utc, id";
            using var reader = select.ExecuteReader();
            while (excess > 0 && reader.Read())
            {
                victims.Add(reader.GetInt64(0));
                excess -= reader.GetInt64(1);
            }
        }

        using var delete = _connection.CreateCommand();
        delete.CommandText = "DELETE FROM dead_letter WHERE id = $id";
        var id = delete.Parameters.Add("$id", SqliteType.Integer);
        foreach (var victim in victims)
        {
            id.Value = victim;
            dropped += delete.ExecuteNonQuery();
        }

        return dropped;
    }

    /// <summary>
    /// The Sparkplug bdSeq of the next CONNECT, 0–255: one more than the last one handed out by this file, in this
    /// process or an earlier one, wrapping after 255 (a new file starts at 0; the counter <c>sparkplug_bd_seq</c>, added
    /// to older files on open, holds 255 until the first call). Since 2026-11-24; before, bdSeq restarted at 0 per process.
    /// </summary>
    /// <exception cref="OutboxCorruptException">The file is damaged.</exception>
    public long NextSparkplugBdSeq()
    {
        lock (_gate)
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return Scalar("UPDATE counters SET value = (value + 1) % 256 WHERE name = 'sparkplug_bd_seq' RETURNING value");
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
    }

    /// <summary>
    /// The rows queued for publishing (<see cref="OutboxStatistics.Depth"/>) and nothing else: for callers that poll it
    /// (a stop waiting for the queue to drain, the systemd status line). <see cref="GetStatistics"/> also counts the stored
    /// results awaiting re-analysis (from an index since 2026-11-24, review; a scan of them all before); since 2026-11-24
    /// (review) the service's pending count no longer goes through it.
    /// </summary>
    public long Depth
    {
        get
        {
            lock (_gate)
            {
                try
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    return Scalar("SELECT COUNT(*) FROM outbox");
                }
                catch (SqliteException ex) when (IsCorruption(ex))
                {
                    throw Corrupted(ex);
                }
            }
        }
    }

    /// <summary>
    /// Current figures for <c>health</c>, once per report (<see cref="Depth"/> for the queue alone).
    /// <see cref="OutboxStatistics.AwaitingReanalysis"/> is counted from the partial index <see cref="AwaitingReanalysisIndex"/>
    /// (its entries only); until 2026-11-24 (review) it read the whole results table, spectra included, under the lock.
    /// </summary>
    public OutboxStatistics GetStatistics()
    {
        lock (_gate)
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var depth = Scalar("SELECT COUNT(*) FROM outbox");
                long? oldest = null, oldestRun = null;
                if (depth > 0)
                {
                    // One scan for both: the columns follow the payload, so each scan reads its overflow pages too.
                    using var command = _connection.CreateCommand();
                    command.CommandText = "SELECT MIN(created_utc), MIN(created_run_ms) FROM outbox";
                    using var reader = command.ExecuteReader();
                    reader.Read();
                    oldest = reader.GetInt64(0);
                    oldestRun = reader.IsDBNull(1) ? null : reader.GetInt64(1);
                }

                var age = oldest is { } ms ? _time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(ms) : TimeSpan.Zero;
                return new OutboxStatistics(
                    depth,
                    _bytes,
                    age < TimeSpan.Zero ? TimeSpan.Zero : age,
                    Scalar("SELECT value FROM counters WHERE name = 'evicted_total'"),
                    Scalar("SELECT COUNT(*) FROM dead_letter"),
                    Interlocked.Read(ref _refused),
                    Scalar("SELECT value FROM counters WHERE name = 'seq'"),
                    RecoveredFromCorruption)
                {
                    AwaitingReanalysis = Scalar(_countAwaitingReanalysis),
                    PrunedUnanalysedTotal = Scalar("SELECT value FROM counters WHERE name = 'pruned_unanalysed_total'"),
                    OldestRunAge = RunAge(depth, oldestRun, RunClockMilliseconds),
                };
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
    }

    /// <summary>The stored spectrum (protobuf) of a measurement, or null when unknown or pruned.</summary>
    public byte[]? TryGetSpectrum(string measurementId) => ReadStoredResult("SELECT spectrum FROM results WHERE measurement_id = $id", measurementId);

    /// <summary>The stored detection payload of a measurement, or null.</summary>
    public byte[]? TryGetResult(string measurementId) => ReadStoredResult("SELECT detection FROM results WHERE measurement_id = $id", measurementId);

    /// <summary>
    /// Stored measurements that did not complete and have their spectrum (event rows,
    /// <see cref="EnqueueIncompleteMeasurement"/>), oldest first, after results row <paramref name="afterRowId"/>: what
    /// can be analysed later. Reads under the writer's lock on its connection (one statement; the table is bounded by
    /// <see cref="OutboxOptions.ResultRetention"/>).
    /// </summary>
    /// <exception cref="OutboxCorruptException">The file was damaged while open.</exception>
    public IReadOnlyList<StoredIncompleteMeasurement> ReadIncompleteMeasurements(long afterRowId, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        lock (_gate)
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using var command = _connection.CreateCommand();
                command.CommandText = $"SELECT rowid, measurement_id, detection, spectrum FROM results WHERE rowid > $after AND spectrum IS NOT NULL AND {IsEventRow} ORDER BY rowid LIMIT $max";
                command.Parameters.AddWithValue("$after", afterRowId);
                command.Parameters.AddWithValue("$max", max);
                using var reader = command.ExecuteReader();
                var rows = new List<StoredIncompleteMeasurement>();
                while (reader.Read())
                {
                    rows.Add(new StoredIncompleteMeasurement(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<byte[]>(2), reader.GetFieldValue<byte[]>(3)));
                }

                return rows;
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
    }

    private byte[]? ReadStoredResult(string select, string measurementId)
    {
        lock (_gate)
        {
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                using var command = _connection.CreateCommand();
                command.CommandText = select;
                command.Parameters.AddWithValue("$id", measurementId);
                return command.ExecuteScalar() as byte[];
            }
            catch (SqliteException ex) when (IsCorruption(ex))
            {
                throw Corrupted(ex);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            PersistRunClockAtClose();
            _connection.Dispose();
            _instanceLock.Dispose();
            _damagedSource.Dispose();
        }
    }

    /// <summary>
    /// The run clock's last update, at <see cref="Dispose"/>: best effort (one autocommitted statement), because a
    /// damaged, read-only or full file must not turn a clean stop into a failure; the time since the last write is then
    /// not counted, which only keeps rows longer.
    /// </summary>
    private void PersistRunClockAtClose()
    {
        if (IsDamaged)
        {
            return;
        }

        try
        {
            PersistRunClock();
        }
        catch (SqliteException ex)
        {
            Log.RunClockNotSaved(_logger, _options.DatabasePath, ex.Message);
        }
    }

    /// <summary><see cref="OutboxStatistics.OldestRunAge"/> from the oldest row's run-clock value and the clock's.</summary>
    private static TimeSpan? RunAge(long depth, long? oldestRun, long? runNow) =>
        depth == 0 ? TimeSpan.Zero
        : oldestRun is { } row && runNow is { } clock ? TimeSpan.FromMilliseconds(Math.Max(0, clock - row))
        : null;

    /// <summary>Whether <paramref name="table"/> of <paramref name="connection"/>'s main database has <paramref name="column"/>.</summary>
    private static bool HasColumn(SqliteConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column";
        command.Parameters.AddWithValue("$table", table);
        command.Parameters.AddWithValue("$column", column);
        return (long)command.ExecuteScalar()! > 0;
    }

    private static (SqliteConnection Connection, bool HadSchema) OpenChecked(OutboxOptions options)
    {
        // busy_timeout is SQLite's own wait inside one attempt. Microsoft.Data.Sqlite also retries SQLITE_BUSY (150 ms
        // apart) until its command timeout, and an attempt started just before that timeout still waits its whole
        // busy_timeout: with both at 5 s a store gave up after 10 s (seen in CI under load). Its timeout is therefore
        // the smallest it takes (1 s, whole seconds), bounding a blocked store at about BusyTimeout + 1 s.
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 1,
        }.ToString());
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout={BusyTimeoutMilliseconds(options)}";
            command.ExecuteNonQuery();
            command.CommandText = "PRAGMA quick_check";
            var check = command.ExecuteScalar() as string;
            if (!string.Equals(check, "ok", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"PRAGMA quick_check reported: {check}");
            }

            command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'counters'";
            var hadSchema = command.ExecuteScalar() is long tables && tables > 0;
            command.CommandText = "PRAGMA user_version";
            var version = (long)command.ExecuteScalar()!;
            if (version > SchemaVersion)
            {
                // Not damage: moving it aside would strand a backlog that the release which wrote it can still send.
                throw new IOException(
                    $"Outbox '{options.DatabasePath}' has schema version {version}, newer than the {SchemaVersion} this build understands " +
                    "(written by a newer XrfEdge release); it was left untouched. Install that release again, or stop the service " +
                    "and move the file (with its -wal and -shm) aside to start an empty outbox.");
            }

            // WAL is persistent in the file; synchronous is per connection and FULL is the only durable WAL setting.
            command.CommandText = """
                PRAGMA journal_mode=WAL;
                PRAGMA synchronous=FULL;
                PRAGMA wal_autocheckpoint=1000;
                PRAGMA journal_size_limit=16777216;
                """;
            command.ExecuteNonQuery();
            if (options.MaxFileBytes is { } maxFile)
            {
                command.CommandText = "PRAGMA page_size";
                var pageSize = (long)command.ExecuteScalar()!;
                command.CommandText = $"PRAGMA max_page_count={Math.Max(1, maxFile / pageSize)}";
                command.ExecuteNonQuery();
            }

            command.CommandText = Schema;
            command.ExecuteNonQuery();
            foreach (var (table, column) in AddedColumns)
            {
                if (!HasColumn(connection, table, column))
                {
                    command.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} INTEGER";
                    command.ExecuteNonQuery();
                }
            }

            if (version < SchemaVersion)
            {
                // Files from before the version stamp (0) hold exactly this schema.
                command.CommandText = $"PRAGMA user_version = {SchemaVersion}";
                command.ExecuteNonQuery();
            }

            return (connection, hadSchema);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies every outbox row the damaged file still yields (same id, msg_id, payload) into the new outbox: damage in
    /// a page that holds no outbox row must not cost the backlog. Reading stops at the first unreadable row.
    /// </summary>
    private static void Salvage(string damagedPath, SqliteConnection target, string databasePath, ILogger log)
    {
        long salvaged = 0;
        string total = "unknown";
        try
        {
            using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = damagedPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            source.Open();
            using var count = source.CreateCommand();
            try
            {
                count.CommandText = "SELECT COUNT(*) FROM outbox";
                total = Convert.ToString(count.ExecuteScalar(), CultureInfo.InvariantCulture) ?? total;
            }
            catch (SqliteException)
            {
                // The count is only for the log; the rows themselves may still be readable one by one.
            }

            // A file from a build before the run clock has no created_run_ms: its rows keep NULL (wall clock alone).
            var run = HasColumn(source, "outbox", "created_run_ms") ? "created_run_ms" : "NULL";
            using var read = source.CreateCommand();
            read.CommandText = $"SELECT id, msg_id, kind, topic, qos, retain, content_type, payload, created_utc, expires_utc, attempts, last_error, {run} FROM outbox ORDER BY id";
            using var write = target.CreateCommand();
            write.CommandText = """
                INSERT OR IGNORE INTO outbox(id, msg_id, kind, topic, qos, retain, content_type, payload, created_utc, expires_utc, attempts, last_error, created_run_ms)
                VALUES ($id, $msg, $kind, $topic, $qos, $retain, $ct, $payload, $created, $expires, $attempts, $error, $run)
                """;
            CopyRows(read, write, ref salvaged, ["$id", "$msg", "$kind", "$topic", "$qos", "$retain", "$ct", "$payload", "$created", "$expires", "$attempts", "$error", "$run"]);
        }
        catch (SqliteException ex)
        {
            total = $"{total} ({ex.Message})";
        }

        Log.OutboxRowsSalvaged(log, databasePath, salvaged, total);
        SalvageUnanalysed(damagedPath, target, databasePath, log);
        SalvageCounters(damagedPath, target, databasePath, log);
    }

    /// <summary>
    /// Carries the persistent counts of what was lost (<c>evicted_total</c>, <c>pruned_unanalysed_total</c>) from a
    /// damaged file into the new outbox, when its counters table still reads: they count "ever", and until 2026-11-24
    /// (review) a recovery reset both to 0, as if the evicted rows and the maps pruned before their analysis had never
    /// been. <c>seq</c> is not taken: the recovery sets it from the clock (<see cref="Open"/>). Unreadable: 7058, and
    /// they restart at 0 as before. The run clock (<c>run_ms</c>, <see cref="RunClockMilliseconds"/>) is carried too,
    /// and never set below the newest salvaged row's <c>created_run_ms</c>, so the salvaged rows keep their run-clock age.
    /// </summary>
    private static void SalvageCounters(string damagedPath, SqliteConnection target, string databasePath, ILogger log)
    {
        try
        {
            using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = damagedPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            source.Open();
            using var read = source.CreateCommand();
            read.CommandText = "SELECT name, value FROM counters WHERE name IN ('evicted_total', 'pruned_unanalysed_total', 'run_ms')";
            using var write = target.CreateCommand();
            write.CommandText = "UPDATE counters SET value = max(value, $value) WHERE name = $name";
            var name = write.Parameters.Add("$name", SqliteType.Text);
            var value = write.Parameters.Add("$value", SqliteType.Integer);
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                if (reader.GetValue(1) is long count && count > 0)
                {
                    name.Value = reader.GetString(0);
                    value.Value = count;
                    write.ExecuteNonQuery();
                }
            }
        }
        catch (SqliteException ex)
        {
            Log.OutboxCountersNotSalvaged(log, databasePath, ex.Message);
        }

        using var run = target.CreateCommand();
        run.CommandText = "UPDATE counters SET value = max(value, (SELECT COALESCE(MAX(created_run_ms), 0) FROM outbox)) WHERE name = 'run_ms'";
        run.ExecuteNonQuery();
    }

    /// <summary>
    /// Runs <paramref name="write"/> once per row <paramref name="read"/> returns, its columns bound in order to
    /// <paramref name="names"/>, up to the first unreadable row (whose <see cref="SqliteException"/> the caller handles).
    /// <paramref name="copied"/> counts the rows written (ignored duplicates not), so it holds what was salvaged before
    /// such an exception too.
    /// </summary>
    private static void CopyRows(SqliteCommand read, SqliteCommand write, ref long copied, string[] names)
    {
        using var reader = read.ExecuteReader();
        while (reader.Read())
        {
            write.Parameters.Clear();
            for (var i = 0; i < names.Length; i++)
            {
                write.Parameters.AddWithValue(names[i], reader.GetValue(i));
            }

            copied += write.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Copies the results rows still awaiting re-analysis (an event with a spectrum: a measurement or scan point whose
    /// analysis failed for want of a model or by ONNX Runtime) from a damaged file into the new outbox, oldest first, up
    /// to the first unreadable one. They are the only copy of those spectra; completed results are copies of rows queued
    /// or sent already and stay in the <c>*.corrupt</c> file. Since 2026-11-24;
    /// before, none was salvaged and a failed map measured before the damage was never analysed.
    /// </summary>
    private static void SalvageUnanalysed(string damagedPath, SqliteConnection target, string databasePath, ILogger log)
    {
        long salvaged = 0;
        string problem = string.Empty;
        try
        {
            using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = damagedPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            source.Open();
            using var read = source.CreateCommand();
            read.CommandText = $"SELECT measurement_id, seq, msg_id, created_utc, detection, spectrum FROM results WHERE spectrum IS NOT NULL AND {IsEventRow} ORDER BY rowid";
            using var write = target.CreateCommand();
            write.CommandText = """
                INSERT OR IGNORE INTO results(measurement_id, seq, msg_id, created_utc, detection, spectrum)
                VALUES ($id, $seq, $msg, $created, $detection, $spectrum)
                """;
            CopyRows(read, write, ref salvaged, ["$id", "$seq", "$msg", "$created", "$detection", "$spectrum"]);
        }
        catch (SqliteException ex)
        {
            problem = $" (then: {ex.Message})";
        }

        if (salvaged > 0 || problem.Length > 0)
        {
            Log.UnanalysedResultsSalvaged(log, databasePath, salvaged, problem);
        }
    }

    /// <summary>
    /// Turns a corruption error of the open file into <see cref="OutboxCorruptException"/>, marks the outbox damaged and
    /// logs it once (7028): a full disk or a lock passes, damage does not, so the caller must not retry as for those.
    /// </summary>
    private OutboxCorruptException Corrupted(SqliteException cause)
    {
        var error = new OutboxCorruptException(
            $"Outbox '{_options.DatabasePath}' is damaged ({Describe(cause)}): nothing was stored or read. " +
            "Reopening it (a restart) moves the file aside and salvages its readable rows.",
            _options.DatabasePath,
            cause);
        if (Interlocked.Exchange(ref _damaged, 1) == 0)
        {
            Volatile.Write(ref _damage, error);
            Log.OutboxDamagedWhileOpen(_logger, _options.DatabasePath, cause.SqliteErrorCode, cause.Message);

            // The callbacks (the service stopping its host) run on the thread pool, not here under the outbox's lock.
            _ = _damagedSource.CancelAsync();
        }

        return error;
    }

    private static (SqliteConnection Connection, bool HadSchema) OpenOrExplain(OutboxOptions options, bool existed)
    {
        try
        {
            return OpenChecked(options);
        }
        catch (SqliteException ex)
        {
            throw Unavailable(options, existed, ex);
        }
    }

    private static IOException Unavailable(OutboxOptions options, bool existed, SqliteException cause)
    {
        // A file this attempt created and could not fill (full disk) would read as "emptied" on the next start; remove it.
        var created = new FileInfo(options.DatabasePath);
        if (!existed && created.Exists && created.Length == 0)
        {
            created.Delete();
        }

        return new IOException(
            $"Outbox '{options.DatabasePath}' could not be opened ({Describe(cause)}); " +
            "the file was left untouched so that its stored rows are sent after a restart once the cause (lock, permissions, full disk) is gone.",
            cause);
    }

    private OutboxReceipt Insert(Func<OutboxStamp, IReadOnlyList<OutboxMessage>> build, MeasurementRecord? record, bool sequenced, IReadOnlyList<IncompleteScanPoint>? points = null)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = _time.GetUtcNow();
            return Committing(() =>
            {
                var (receipt, incoming, evictedBytes, resultDelta) = InsertRows(build, record, sequenced, now, points);
                return (receipt, incoming, evictedBytes, receipt.Evicted, resultDelta);
            });
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction under the caller's lock, then keeps the byte counts (queued
    /// and stored results) and logs evictions; damage and a full disk become <see cref="OutboxCorruptException"/> and
    /// <see cref="OutboxFullException"/>, as every store reports them.
    /// </summary>
    private T Committing<T>(Func<(T Value, long Incoming, long EvictedBytes, int Evicted, long ResultDelta)> work)
    {
        try
        {
            var (value, incoming, evictedBytes, evictedRows, resultDelta) = InWriteTransaction(() =>
            {
                _prunedUnanalysed = 0;
                var done = work();
                if (_prunedUnanalysed > 0)
                {
                    // In the same transaction, so the persistent count never misses a committed prune.
                    using var count = _connection.CreateCommand();
                    count.CommandText = "UPDATE counters SET value = value + $n WHERE name = 'pruned_unanalysed_total'";
                    count.Parameters.AddWithValue("$n", _prunedUnanalysed);
                    count.ExecuteNonQuery();
                }

                return done;
            });
            _bytes += incoming - evictedBytes;
            _resultBytes += resultDelta;
            if (evictedRows > 0)
            {
                Log.OutboxRowsEvicted(_logger, evictedRows, _options.MaxBytes);
            }

            if (_prunedUnanalysed > 0)
            {
                Log.UnanalysedResultsPruned(_logger, _prunedUnanalysed, _options.ResultRetention, _options.ResultRetentionBytes);
            }

            return value;
        }
        catch (SqliteException ex) when (IsCorruption(ex))
        {
            throw Corrupted(ex);
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) is SqliteFull or SqliteIoError)
        {
            Interlocked.Increment(ref _refused);
            Log.OutboxDiskFull(_logger, _options.DatabasePath, ex.Message);
            var cause = (ex.SqliteErrorCode & 0xFF) == SqliteFull ? "is full (disk or file cap)" : "hit an I/O error";
            throw new OutboxFullException(
                $"Outbox '{_options.DatabasePath}' {cause}: the new result was NOT stored; stored rows are kept. SQLite: {ex.Message}", ex);
        }
    }

    private (OutboxReceipt Receipt, long Incoming, long EvictedBytes, long ResultDelta) InsertRows(
        Func<OutboxStamp, IReadOnlyList<OutboxMessage>> build, MeasurementRecord? record, bool sequenced, DateTimeOffset now, IReadOnlyList<IncompleteScanPoint>? points)
    {
        long seq = 0;
        if (record is not null)
        {
            using var next = _connection.CreateCommand();
            next.CommandText = sequenced
                ? "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value"
                : "SELECT value FROM counters WHERE name = 'seq'";
            seq = (long)next.ExecuteScalar()!;
        }

        var stamp = new OutboxStamp(sequenced ? seq : 0, Guid.CreateVersion7(now), now);
        var messages = build(stamp);
        if (messages.Count == 0)
        {
            throw new ArgumentException("The payload builder returned no message.", nameof(build));
        }

        var message = messages[0];
        var incoming = messages.Sum(m => (long)m.Payload.Length);
        var evicted = MakeRoom(incoming, reanalysis: record is { ReplacesIncomplete: true });

        long rowId = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var id = InsertOutboxRow(messages[i], i == 0 ? stamp.MsgId : Guid.CreateVersion7(now), now);
            if (i == 0)
            {
                rowId = id;
            }
        }

        long resultDelta = 0;
        if (points is { Count: > 0 })
        {
            resultDelta += InsertIncompleteScanPoints(points, stamp.MsgId, now);
        }

        if (record is not null)
        {
            if (record.ReplacesIncomplete)
            {
                // Only an event row (an incomplete measurement) gives way; a stored detection with this id makes the
                // insert below fail, so a result is never silently overwritten.
                using var replace = _connection.CreateCommand();
                replace.CommandText = $"DELETE FROM results WHERE measurement_id = $id AND {IsEventRow} RETURNING {ResultRowBytes}";
                replace.Parameters.AddWithValue("$id", record.MeasurementId);
                resultDelta -= Convert.ToInt64(replace.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
            }

            using var result = _connection.CreateCommand();
            result.CommandText = """
                INSERT INTO results(measurement_id, seq, msg_id, created_utc, detection, spectrum)
                VALUES ($id, $seq, $msg, $created, $detection, $spectrum) RETURNING rowid
                """;
            result.Parameters.AddWithValue("$id", record.MeasurementId);
            result.Parameters.AddWithValue("$seq", seq);
            result.Parameters.AddWithValue("$msg", stamp.MsgId.ToString());
            result.Parameters.AddWithValue("$created", now.ToUnixTimeMilliseconds());
            result.Parameters.AddWithValue("$detection", message.Payload);
            result.Parameters.AddWithValue("$spectrum", (object?)record.Spectrum ?? DBNull.Value);
            var resultRow = (long)result.ExecuteScalar()!;
            var resultBytes = message.Payload.Length + (record.Spectrum?.Length ?? 0L);
            resultDelta += resultBytes - PruneResults(resultRow, resultBytes, replacedBytes: -resultDelta);
        }

        return (new OutboxReceipt(rowId, stamp, evicted.Rows), incoming, evicted.Bytes, resultDelta);
    }

    /// <summary>Inserts one queued row inside the caller's transaction; returns its id.</summary>
    private long InsertOutboxRow(OutboxMessage m, Guid msgId, DateTimeOffset now)
    {
        using var insert = _connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO outbox(msg_id, kind, topic, qos, retain, content_type, payload, created_utc, expires_utc, created_run_ms)
            VALUES ($msg, $kind, $topic, $qos, $retain, $ct, $payload, $created, $expires, $run) RETURNING id
            """;
        insert.Parameters.AddWithValue("$msg", msgId.ToString());
        insert.Parameters.AddWithValue("$kind", (int)m.Kind);
        insert.Parameters.AddWithValue("$topic", m.Topic);
        insert.Parameters.AddWithValue("$qos", m.Qos);
        insert.Parameters.AddWithValue("$retain", m.Retain ? 1 : 0);
        insert.Parameters.AddWithValue("$ct", (object?)m.ContentType ?? DBNull.Value);
        insert.Parameters.AddWithValue("$payload", m.Payload);
        insert.Parameters.AddWithValue("$created", now.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$expires", m.ExpiresUtc is { } e ? e.ToUnixTimeMilliseconds() : DBNull.Value);
        insert.Parameters.AddWithValue("$run", PersistRunClock());
        return (long)insert.ExecuteScalar()!;
    }

    /// <summary>
    /// The results rows of a chunk's failed scan points (<see cref="EnqueueScanChunk"/>), inside its transaction, then
    /// one prune for all of them; returns the change in stored-result bytes. Like an incomplete measurement's row: no
    /// seq of its own (the column holds the last one assigned), the chunk's msg_id.
    /// </summary>
    private long InsertIncompleteScanPoints(IReadOnlyList<IncompleteScanPoint> points, Guid msgId, DateTimeOffset now)
    {
        using var insert = _connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO results(measurement_id, seq, msg_id, created_utc, detection, spectrum)
            VALUES ($id, (SELECT value FROM counters WHERE name = 'seq'), $msg, $created, $detection, $spectrum) RETURNING rowid
            """;
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        insert.Parameters.AddWithValue("$msg", msgId.ToString());
        insert.Parameters.AddWithValue("$created", now.ToUnixTimeMilliseconds());
        var detection = insert.Parameters.Add("$detection", SqliteType.Blob);
        var spectrum = insert.Parameters.Add("$spectrum", SqliteType.Blob);
        long newest = 0, bytes = 0;
        foreach (var point in points)
        {
            id.Value = point.MeasurementId;
            detection.Value = point.Event;
            spectrum.Value = point.Spectrum;
            newest = (long)insert.ExecuteScalar()!;
            bytes += point.Event.Length + point.Spectrum.Length;
        }

        return bytes - PruneResults(newest, bytes, replacedBytes: 0);
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction. SQLITE_FULL, SQLITE_IOERR and a failed COMMIT may already
    /// have rolled the whole transaction back (https://www.sqlite.org/lang_transaction.html, "Response To Errors Within
    /// A Transaction"); a second ROLLBACK would then fail with "no transaction is active" and hide the real error, so it
    /// is issued only while a transaction is still open.
    /// </summary>
    private T InWriteTransaction<T>(Func<T> work) => InWriteTransaction(waitForLock: true, work);

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction; with <paramref name="waitForLock"/> false its BEGIN waits at
    /// most <see cref="NoWaitLockTimeout"/> for another connection's write lock (SQLite's busy handler; the raw call skips
    /// Microsoft.Data.Sqlite's own retry of up to its command timeout) and throws SQLITE_BUSY. Once BEGIN IMMEDIATE holds
    /// the write lock, nothing in the transaction waits for another writer (WAL).
    /// </summary>
    private T InWriteTransaction<T>(bool waitForLock, Func<T> work)
    {
        if (waitForLock)
        {
            Execute("BEGIN IMMEDIATE");
        }
        else
        {
            var db = _connection.Handle!;
            _ = SQLitePCL.raw.sqlite3_busy_timeout(db, (int)NoWaitLockTimeout.TotalMilliseconds);
            try
            {
                SqliteException.ThrowExceptionForRC(SQLitePCL.raw.sqlite3_exec(db, "BEGIN IMMEDIATE"), db);
            }
            finally
            {
                _ = SQLitePCL.raw.sqlite3_busy_timeout(db, BusyTimeoutMilliseconds(_options));
            }
        }

        try
        {
            var result = work();
            Execute("COMMIT");
            return result;
        }
        catch
        {
            if (SQLitePCL.raw.sqlite3_get_autocommit(_connection.Handle) == 0)
            {
                Execute("ROLLBACK");
            }

            throw;
        }
    }

    /// <summary>
    /// Bounds the stored results (the <c>get_spectrum</c> archive, outside <see cref="OutboxOptions.MaxBytes"/>) after the
    /// one in row <paramref name="newestRow"/> went in, inside its transaction: the newest
    /// <see cref="OutboxOptions.ResultRetention"/> rows, then the oldest dropped while detections, events and spectra
    /// together exceed <see cref="OutboxOptions.ResultRetentionBytes"/> (never the newest). Returns the bytes dropped.
    /// <paramref name="replacedBytes"/>: bytes this transaction deleted already (the event row a re-analysed result
    /// replaces, <see cref="MeasurementRecord.ReplacesIncomplete"/>), which <c>_resultBytes</c> still counts until the commit.
    /// </summary>
    /// <remarks>
    /// Age is the table's rowid, not seq: a measurement that did not complete consumes no seq, so a long run of them
    /// would share one seq and a seq window would never count or drop them. SQLite gives a new row the largest rowid
    /// plus one (sqlite.org/autoinc.html), and the largest always belongs to the newest row, which is never pruned
    /// here (unless <see cref="OutboxOptions.ResultRetention"/> ≤ 0 empties the table), so rowid order is insertion
    /// order; in files written before 2026-11-23, when every row took the next seq, it is also seq order. No schema
    /// change: <see cref="SchemaVersion"/> stays 1, and an older build that opens the file still bounds these rows by
    /// the seq they share with the detection before them.
    /// </remarks>
    private long PruneResults(long newestRow, long newestBytes, long replacedBytes)
    {
        long freed = 0;
        using (var byCount = _connection.CreateCommand())
        {
            byCount.CommandText = _pruneByCount;
            byCount.Parameters.AddWithValue("$keep", _options.ResultRetention);
            using var reader = byCount.ExecuteReader();
            while (reader.Read())
            {
                freed += reader.GetInt64(0);
                _prunedUnanalysed += reader.GetInt32(1);
            }
        }

        var excess = _resultBytes - replacedBytes + newestBytes - freed - _options.ResultRetentionBytes;
        if (excess <= 0)
        {
            return freed;
        }

        var victims = new List<long>();
        using (var select = _connection.CreateCommand())
        {
            select.CommandText = $"SELECT rowid, {ResultRowBytes}, {_awaitingReanalysis} FROM results WHERE rowid < $row ORDER BY rowid";
            select.Parameters.AddWithValue("$row", newestRow);
            using var reader = select.ExecuteReader();
            while (excess > 0 && reader.Read())
            {
                victims.Add(reader.GetInt64(0));
                excess -= reader.GetInt64(1);
                freed += reader.GetInt64(1);
                _prunedUnanalysed += reader.GetInt32(2);
            }
        }

        using var delete = _connection.CreateCommand();
        delete.CommandText = "DELETE FROM results WHERE rowid = $row";
        var victim = delete.Parameters.Add("$row", SqliteType.Integer);
        foreach (var row in victims)
        {
            victim.Value = row;
            delete.ExecuteNonQuery();
        }

        return freed;
    }

    /// <summary>
    /// Makes room under <see cref="OutboxOptions.MaxBytes"/> for <paramref name="incoming"/> bytes, inside the caller's
    /// transaction. A <paramref name="reanalysis"/> (a later analysis of a stored measurement or scan point) never evicts
    /// and never fills the last quarter of the cap, which is the live results': past 3/4 it throws
    /// <see cref="OutboxFullException"/> (not counted as a refusal: the measurement stays stored and a later pass takes
    /// it). Since 2026-11-24; before, it made room like a new measurement, so re-analysing a failed map while offline
    /// evicted older unsent rows (EvictOldest) or had the next live results refused (RejectNew).
    /// </summary>
    private (int Rows, long Bytes) MakeRoom(long incoming, bool reanalysis = false)
    {
        if (reanalysis && _bytes + incoming > ReanalysisShareBytes)
        {
            throw new OutboxFullException(
                $"Outbox '{_options.DatabasePath}' holds {_bytes} of {_options.MaxBytes} bytes: a re-analysis ({incoming} bytes) is queued only within 3/4 of the cap and never evicts an unsent row; it was NOT stored, the measurement stays stored for a later pass.");
        }

        if (_bytes + incoming <= _options.MaxBytes)
        {
            return (0, 0);
        }

        if (_options.FullPolicy == OutboxFullPolicy.RejectNew)
        {
            Interlocked.Increment(ref _refused);
            Log.OutboxCapReached(_logger, _bytes, _options.MaxBytes);
            throw new OutboxFullException($"Outbox '{_options.DatabasePath}' holds {_bytes} of {_options.MaxBytes} bytes and the policy is RejectNew: the new result was NOT stored; stored rows are kept.");
        }

        using var select = _connection.CreateCommand();
        select.CommandText = "SELECT id, length(payload) FROM outbox ORDER BY kind, id";
        var victims = new List<long>();
        long freed = 0;
        using (var reader = select.ExecuteReader())
        {
            while (_bytes - freed + incoming > _options.MaxBytes && reader.Read())
            {
                victims.Add(reader.GetInt64(0));
                freed += reader.GetInt64(1);
            }
        }

        using var delete = _connection.CreateCommand();
        delete.CommandText = "DELETE FROM outbox WHERE id = $id";
        var id = delete.Parameters.Add("$id", SqliteType.Integer);
        foreach (var victim in victims)
        {
            id.Value = victim;
            delete.ExecuteNonQuery();
        }

        AddEvicted(victims.Count);
        return (victims.Count, freed);
    }

    private void AddEvicted(int count)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "UPDATE counters SET value = value + $n WHERE name = 'evicted_total'";
        command.Parameters.AddWithValue("$n", count);
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() is long value ? value : 0;
    }

    /// <summary>
    /// Enters the outbox's lock; with <paramref name="waitForLock"/> false for at most <see cref="NoWaitLockTimeout"/>, else
    /// SQLITE_BUSY: the lock is held across a write that may itself wait out another connection's lock (BusyTimeout).
    /// </summary>
    private void EnterGate(bool waitForLock)
    {
        if (waitForLock)
        {
            _gate.Enter();
        }
        else if (!_gate.TryEnter(NoWaitLockTimeout))
        {
            throw new SqliteException($"Outbox '{_options.DatabasePath}' is busy with another write of this process, which waits for the database's write lock; not waiting.", SqliteBusy);
        }
    }

    /// <summary>The busy timeout set on the connection: <see cref="OutboxOptions.BusyTimeout"/> in 1–5,000 ms.</summary>
    private static int BusyTimeoutMilliseconds(OutboxOptions options) => (int)Math.Clamp(options.BusyTimeout.TotalMilliseconds, 1, 5000);

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

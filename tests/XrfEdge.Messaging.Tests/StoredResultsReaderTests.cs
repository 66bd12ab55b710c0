using System.Text;
using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Tests.Support;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// <see cref="SqliteOutbox.ReadStoredResults"/>, the read-only reader behind <c>xrfedge outbox export</c>: every stored
/// result oldest first by insertion, completed and incomplete alike, filtered by the time it was stored, refusing what
/// is not an outbox or is newer, and harmless to a writer that has the file open. Before 2026-11-23 nothing but
/// <c>get_spectrum</c>, one id at a time, read the stored spectra.
/// </summary>
public sealed class StoredResultsReaderTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("xrfedge-stored-results-").FullName;
    private readonly FakeTimeProvider _clock = new(Start);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string DbPath => Path.Combine(_directory, "outbox.db");

    private SqliteOutbox Open() => SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath }, timeProvider: _clock);

    private static OutboxMessage Message(string json) => new() { Kind = OutboxKind.Detection, Topic = "xrf/v1/acme/XRF-0042/events", Payload = Encoding.UTF8.GetBytes(json) };

    /// <summary>C1 (spectrum [1]), F1 (incomplete, [2]), C2 (no spectrum), F2 ([4]): one minute apart from 08:00.</summary>
    private void StoreFour(SqliteOutbox outbox)
    {
        outbox.EnqueueMeasurement(new MeasurementRecord("C1", [1]), s => [Message($"{{\"seq\":{s.Seq}}}")]);
        _clock.Advance(TimeSpan.FromMinutes(1));
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F1", [2]), Message("{\"schema\":\"xrf.measurement-event/1\",\"outcome\":\"failed\"}"));
        _clock.Advance(TimeSpan.FromMinutes(1));
        outbox.EnqueueMeasurement(new MeasurementRecord("C2", null), s => [Message($"{{\"seq\":{s.Seq}}}")]);
        _clock.Advance(TimeSpan.FromMinutes(1));
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F2", [4]), Message("{\"schema\":\"xrf.measurement-event/1\",\"outcome\":\"aborted\"}"));
    }

    [Fact]
    public void ReadStoredResults_NeverEnumerated_LeavesTheFileClosed()
    {
        // The export checks the file (ReadStoredResults) before it creates its output; when that fails (exit 1) the rows
        // are never enumerated. The check's connection was handed to an iterator that only disposes it once enumerated,
        // so it stayed open, the file with it, until the process ended or a finalizer ran.
        using (var outbox = Open())
        {
            StoreFour(outbox);
        }

        var rows = SqliteOutbox.ReadStoredResults(DbPath);
        using (rows.GetEnumerator())
        {
        }

        Assert.Empty(OpenDescriptorsOf(DbPath));
        Assert.Equal(["C1", "F1", "C2", "F2"], rows.Select(r => r.MeasurementId)); // still enumerable afterwards
        Assert.Empty(OpenDescriptorsOf(DbPath));
    }

    /// <summary>This process's file descriptors open on <paramref name="path"/> (Linux: the links in /proc/self/fd).</summary>
    private static List<string> OpenDescriptorsOf(string path) =>
        [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Where(fd => fd.LinkTarget == path).Select(fd => fd.Name)];

    [Fact]
    public void ReadStoredResults_CompletedAndIncomplete_AllOldestFirstWithTheirColumns()
    {
        using (var outbox = Open())
        {
            StoreFour(outbox);
        }

        var rows = SqliteOutbox.ReadStoredResults(DbPath).ToList();

        Assert.Equal(["C1", "F1", "C2", "F2"], rows.Select(r => r.MeasurementId));
        Assert.Equal([1L, 1L, 2L, 2L], rows.Select(r => r.Seq)); // an incomplete row shares the seq of the detection before it
        Assert.Equal(new byte[] { 2 }, rows[1].Spectrum);
        Assert.Null(rows[2].Spectrum);
        Assert.Equal(Start.AddMinutes(1), rows[1].Created);
        Assert.Contains("\"failed\"", Encoding.UTF8.GetString(rows[1].Detection), StringComparison.Ordinal);
        Assert.Equal(rows.Count, rows.Select(r => r.MsgId).Distinct().Count());
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.RowId < p.Second.RowId));
    }

    [Fact]
    public void ReadStoredResults_CreatedSince_KeepsRowsStoredAtOrAfter()
    {
        using (var outbox = Open())
        {
            StoreFour(outbox);
        }

        // F1 was stored at exactly 08:01.
        Assert.Equal(["F1", "C2", "F2"], SqliteOutbox.ReadStoredResults(DbPath, Start.AddMinutes(1)).Select(r => r.MeasurementId));
        Assert.Empty(SqliteOutbox.ReadStoredResults(DbPath, Start.AddMinutes(4)));
    }

    [Fact]
    public void ReadStoredResults_WhileAWriterHasTheFileOpen_ReadsAndTheWriterStoresOn()
    {
        using var outbox = Open(); // holds outbox.db.lock
        StoreFour(outbox);

        using (var rows = SqliteOutbox.ReadStoredResults(DbPath).GetEnumerator())
        {
            Assert.True(rows.MoveNext());

            // A write while the reader's snapshot is open neither blocks nor fails (WAL).
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F3", [5]), Message("{\"schema\":\"xrf.measurement-event/1\",\"outcome\":\"failed\"}"));
        }

        Assert.Equal(["C1", "F1", "C2", "F2", "F3"], SqliteOutbox.ReadStoredResults(DbPath).Select(r => r.MeasurementId));
        Assert.Equal(new byte[] { 5 }, outbox.TryGetSpectrum("F3"));
    }

    [Fact]
    public void ReadStoredResults_Missing_FileNotFoundNamingIt()
    {
        var error = Assert.Throws<FileNotFoundException>(() => SqliteOutbox.ReadStoredResults(DbPath));
        Assert.Contains(DbPath, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(DbPath)); // read-only: nothing created
    }

    [Fact]
    public void ReadStoredResults_SqliteFileWithoutResultsTable_NotAnOutbox()
    {
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE other(x INTEGER)";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<InvalidDataException>(() => SqliteOutbox.ReadStoredResults(DbPath));
        Assert.Contains("is not an XrfEdge outbox database: it has no readable results table (SQLite error 1: no such table: results)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadStoredResults_NotSqlite_NotAnOutboxWithSqlitesCodeAndText()
    {
        File.WriteAllText(DbPath, "this is a text file, not SQLite\n");

        var error = Assert.Throws<InvalidDataException>(() => SqliteOutbox.ReadStoredResults(DbPath));

        // SQLITE_NOTADB is 26 (sqlite.org/rescode.html). Until 2026-11-24 the message blamed a missing results table.
        Assert.Contains($"'{DbPath}' is not an XrfEdge outbox database: it is not an SQLite database (SQLite error 26: file is not a database)", error.Message, StringComparison.Ordinal);
    }

    // The errors below say nothing about the file's contents and were, until 2026-11-24, reported as "not an XrfEdge
    // outbox database" (or, for a directory, "does not exist"), which told the operator to move a healthy outbox aside.
    // No permission (SQLITE_CANTOPEN 14, the same OutboxUnavailableException) cannot be tested here: the tests run as
    // root, whom file modes do not stop.
    [Fact]
    public void ReadStoredResults_PathIsADirectory_UnavailableSayingSoNotMissing()
    {
        var error = Assert.Throws<OutboxUnavailableException>(() => SqliteOutbox.ReadStoredResults(_directory));

        // SQLite would open it and fail the first read with "disk I/O error" (SQLITE_IOERR_READ 266): a wrong lead.
        Assert.Equal($"Outbox database '{_directory}' cannot be opened: it is a directory, not a file.", error.Message);
        Assert.Equal(_directory, error.DatabasePath);
        Assert.False(error.IsBusy);
    }

    [Fact]
    public void ReadStoredResults_FolderMissing_FileNotFoundNamingTheFolderAndNothingCreated()
    {
        var folder = Path.Combine(_directory, "no-such-folder");
        var path = Path.Combine(folder, "outbox.db");

        var error = Assert.Throws<FileNotFoundException>(() => SqliteOutbox.ReadStoredResults(path));

        Assert.Equal($"Outbox database '{path}' does not exist: its folder '{folder}' does not exist either.", error.Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void ReadStoredResults_FolderIsAFile_FileNotFoundSayingSoNotThatTheFolderIsMissing()
    {
        // ENOTDIR (a botched unpack left a file where the folder should be) reaches .NET as DirectoryNotFoundException,
        // like a missing folder; the message sent the operator looking for a folder that is there, as a file.
        var folder = Path.Combine(_directory, "not-a-folder");
        File.WriteAllText(folder, "x");
        var path = Path.Combine(folder, "outbox.db");

        var error = Assert.Throws<FileNotFoundException>(() => SqliteOutbox.ReadStoredResults(path));

        Assert.Equal($"Outbox database '{path}' does not exist: '{folder}' is a file, not a folder.", error.Message);
    }

    [Fact]
    public void ReadStoredResults_ExclusivelyLockedByAnotherConnection_BusyWithSqlitesCodeThenReadsOnceReleased()
    {
        using (var outbox = Open())
        {
            StoreFour(outbox);
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        using (OutboxFile.LockExclusively(DbPath))
        {
            var error = Assert.Throws<OutboxUnavailableException>(() => SqliteOutbox.ReadStoredResults(DbPath));

            // SQLITE_BUSY is 5 (sqlite.org/rescode.html).
            Assert.StartsWith($"Outbox database '{DbPath}' is busy: another process holds a lock on it (SQLite error 5: database is locked).", error.Message, StringComparison.Ordinal);
            Assert.Contains("try again", error.Message, StringComparison.Ordinal);
            Assert.True(error.IsBusy);
            Assert.IsType<SqliteException>(error.InnerException);
        }

        // The reader waits 5 s for the lock (SqliteOutbox.ReaderBusyWaitSeconds), not Microsoft.Data.Sqlite's default 30 s;
        // 20 s leaves room for a loaded machine.
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(20));
        Assert.Equal(["C1", "F1", "C2", "F2"], SqliteOutbox.ReadStoredResults(DbPath).Select(r => r.MeasurementId));
    }

    // The causes the tests cannot produce as root (no permission) or at all (an I/O error, no memory), by SQLite's code:
    // the message Microsoft.Data.Sqlite 6 wraps them in, primary and extended result codes from sqlite.org/rescode.html.
    [Theory]
    [InlineData("database is locked", 5, 5, true, "is busy: another process holds a lock on it (SQLite error 5: database is locked)")]
    [InlineData("database is locked", 5, 261, true, "is busy: another process holds a lock on it (SQLite error 5/261: database is locked)")] // SQLITE_BUSY_RECOVERY
    [InlineData("database table is locked", 6, 6, true, "is busy: another process holds a lock on it (SQLite error 6: database table is locked)")]
    [InlineData("unable to open database file", 14, 14, false, "cannot be opened (SQLite error 14: unable to open database file)")]
    [InlineData("access permission denied", 3, 3, false, "cannot be opened (SQLite error 3: access permission denied)")]
    [InlineData("attempt to write a readonly database", 8, 1544, false, "cannot be read by this user (SQLite error 8/1544: attempt to write a readonly database)")] // SQLITE_READONLY_DIRECTORY
    [InlineData("disk I/O error", 10, 266, false, "could not be read (SQLite error 10/266: disk I/O error)")] // SQLITE_IOERR_READ
    [InlineData("out of memory", 7, 7, false, "could not be read (SQLite error 7: out of memory)")]
    public void Unreadable_SqliteErrorCode_NamesFileCauseAndSqlitesCodeNeverNotAnOutbox(string text, int code, int extended, bool busy, string expected)
    {
        var cause = new SqliteException($"SQLite Error {code}: '{text}'.", code, extended);

        var error = SqliteOutbox.Unreadable(DbPath, cause);

        Assert.StartsWith($"Outbox database '{DbPath}' {expected}", error.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing is known to be wrong with the file", error.Message, StringComparison.Ordinal);
        Assert.Equal(busy, error.IsBusy);
        Assert.Same(cause, error.InnerException);
        Assert.False(SqliteOutbox.IsCorruption(cause)); // the start-up's split: these leave the file untouched too
    }

    [Fact]
    public void ReadStoredResults_NewerSchemaVersion_RefusedBeforeAnyRowAndFileUntouched()
    {
        using (var outbox = Open())
        {
            StoreFour(outbox);
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {SqliteOutbox.SchemaVersion + 1}";
            command.ExecuteNonQuery();
        }

        var before = File.ReadAllBytes(DbPath);
        var error = Assert.Throws<InvalidDataException>(() => SqliteOutbox.ReadStoredResults(DbPath));
        Assert.Contains($"schema version {SqliteOutbox.SchemaVersion + 1}, newer than the {SqliteOutbox.SchemaVersion}", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(DbPath));
    }
}

using System.CommandLine;
using System.Globalization;
using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Service.Cli;

namespace XrfEdge.Service.Tests.Cli;

public sealed class OutboxCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-outbox-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string DbPath => Path.Combine(_folder, "outbox.db");

    private static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exit = XrfEdgeCommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private void WriteOutbox(int rows)
    {
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath });
        for (var i = 0; i < rows; i++)
        {
            outbox.EnqueueMeasurement(new MeasurementRecord($"M{i}", null), _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[100] }]);
        }
    }

    [Fact]
    public void Outbox_IntactFile_ExitsZeroWithFigures()
    {
        WriteOutbox(3);
        var (exit, output, _) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(0, exit);
        Assert.Contains("queued rows    3", output, StringComparison.Ordinal);
        Assert.Contains("integrity      ok", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Outbox_RowsAwaitingReanalysisAndPruned_ShownInTextAndJson()
    {
        // Until 2026-11-24 (review) the inspector showed neither health figure of the re-analysis backlog. The prefix is
        // the service's "no model" reason (ReanalysisWorker.ReasonPrefix); retention 2 prunes F-1 at the third row.
        const string NoModel = "analysis failed: no model loaded: ";
        static OutboxMessage Failed(string id) => new()
        {
            Kind = OutboxKind.Detection,
            Topic = "t",
            Payload = System.Text.Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"{id}\",\"outcome\":\"failed\",\"reason\":\"{NoModel}none\"}}"),
        };

        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, ResultRetention = 2, ReanalysisReasonPrefixes = [NoModel] }))
        {
            foreach (var id in new[] { "F-1", "F-2", "F-3" })
            {
                outbox.EnqueueIncompleteMeasurement(new MeasurementRecord(id, new byte[3]), Failed(id));
            }
        }

        var (exit, output, _) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(0, exit);
        Assert.Contains("awaiting reanalysis  2", output, StringComparison.Ordinal); // F-2, F-3
        Assert.Contains("pruned unanalysed    1", output, StringComparison.Ordinal); // F-1

        (exit, output, _) = Invoke("outbox", "--db", DbPath, "--json");
        Assert.Equal(0, exit);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(2, json.RootElement.GetProperty("awaiting_reanalysis").GetInt64());
        Assert.Equal(1, json.RootElement.GetProperty("pruned_unanalysed_total").GetInt64());
    }

    [Fact]
    public void Outbox_RunClockAge_ShownInTextAndJsonAndUnknownForRowsWithoutOne()
    {
        // Since 2026-11-25 age on the outbox's run clock decides eviction with the wall clock: the inspector shows it,
        // as saved at the service's stop (here 2 h after the row was stored, the wall clock stepped 40 days meanwhile).
        var time = new XrfEdge.Service.Tests.Fakes.FakeTimeProvider();
        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath }, timeProvider: time))
        {
            outbox.EnqueueMeasurement(new MeasurementRecord("M1", null), _ => [new OutboxMessage { Kind = OutboxKind.Detection, Topic = "t", Payload = new byte[100] }]);
            time.Advance(TimeSpan.FromHours(2));
            time.StepWallClock(TimeSpan.FromDays(40));
        }

        var (exit, output, _) = Invoke("outbox", "--db", DbPath, "--json");
        Assert.Equal(0, exit);
        using (var json = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.Equal(7200.0, json.RootElement.GetProperty("oldest_run_age_s").GetDouble());
        }

        (exit, output, _) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(0, exit);
        Assert.Contains("oldest run age 7200 s", output, StringComparison.Ordinal);

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var clear = connection.CreateCommand();
            clear.CommandText = "UPDATE outbox SET created_run_ms = NULL"; // what a release before the run clock leaves
            clear.ExecuteNonQuery();
        }

        (exit, output, _) = Invoke("outbox", "--db", DbPath, "--json");
        Assert.Equal(0, exit);
        using (var json = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("oldest_run_age_s").ValueKind);
        }

        (_, output, _) = Invoke("outbox", "--db", DbPath);
        Assert.Contains("oldest run age unknown", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Outbox_FileWithoutTheReanalysisIndex_AwaitingShownAsUnknown()
    {
        // A file that no release since 2026-11-24 opened holds no index of the service's test (docs/service.md): the
        // inspector, read-only and without the service's options, says so rather than print a count it cannot make.
        WriteOutbox(1);
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP INDEX results_awaiting_reanalysis";
            drop.ExecuteNonQuery();
        }

        var (exit, output, _) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(0, exit);
        Assert.Contains("awaiting reanalysis  unknown", output, StringComparison.Ordinal);
        (_, output, _) = Invoke("outbox", "--db", DbPath, "--json");
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("awaiting_reanalysis").ValueKind);
    }

    [Fact]
    public void Outbox_DeadLetterPageDamaged_ExitsThreeNotTwo()
    {
        // docs/mqtt.md §5: exit 3 when the check fails, 2 only when the file is missing or not an outbox.
        WriteOutbox(10);
        long rootPage;
        long pageSize;
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT rootpage FROM sqlite_master WHERE name = 'dead_letter'";
            rootPage = (long)command.ExecuteScalar()!;
            command.CommandText = "PRAGMA page_size";
            pageSize = (long)command.ExecuteScalar()!;
        }

        using (var file = new FileStream(DbPath, FileMode.Open, FileAccess.Write))
        {
            file.Position = (rootPage - 1) * pageSize; // pages are numbered from 1 (sqlite.org/fileformat2.html §1.3)
            file.Write(Enumerable.Repeat((byte)0xA5, (int)pageSize).ToArray());
        }

        var (exit, output, error) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(3, exit);
        Assert.Contains("unreadable", output, StringComparison.Ordinal);
        Assert.Empty(error);
    }

    // docs/mqtt.md §5: exit 4 when the file could not be opened or read, which says nothing about its contents; until
    // 2026-11-24 these exited 2 ("missing or not an outbox"), a directory as "does not exist". No permission (also 4)
    // cannot be tested here: the tests run as root, whom file modes do not stop.
    [Fact]
    public void Outbox_DatabaseIsADirectory_ExitsFourSayingSo()
    {
        Directory.CreateDirectory(DbPath);
        var (exit, _, error) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(OutboxExportCommand.ExitUnavailable, exit);
        Assert.Equal($"xrfedge outbox: Outbox database '{DbPath}' cannot be opened: it is a directory, not a file.", error.Trim());
    }

    [Fact]
    public void Outbox_LockedByAnotherProcess_ExitsFourBusy()
    {
        WriteOutbox(3);
        using var exclusive = OutboxFile.LockExclusively(DbPath);

        var (exit, output, error) = Invoke("outbox", "--db", DbPath);

        Assert.Equal(OutboxExportCommand.ExitUnavailable, exit);
        Assert.Empty(output);
        Assert.Contains("is busy: another process holds a lock on it (SQLite error 5: database is locked)", error, StringComparison.Ordinal); // SQLITE_BUSY, sqlite.org/rescode.html
    }

    [Fact]
    public void Outbox_FileSqliteCannotOpen_ExitsFourNotTwo()
    {
        // No permission on the file fails SQLite's open itself (SQLITE_CANTOPEN 14, sqlite.org/rescode.html); a Unix socket
        // stands in for it, since root is not stopped by file modes. docs/mqtt.md §5 and the command's help promise 4.
        using var socket = OutboxFile.BindUnixSocket(DbPath);

        var (exit, output, error) = Invoke("outbox", "--db", DbPath);

        Assert.Equal(OutboxExportCommand.ExitUnavailable, exit);
        Assert.Empty(output);
        Assert.Equal($"xrfedge outbox: Outbox database '{DbPath}' cannot be opened (SQLite error 14: unable to open database file). Nothing is known to be wrong with the file; check that this user may read it and its folder.", error.Trim());
    }

    [Fact]
    public void Outbox_MissingFile_ExitsTwo()
    {
        var (exit, _, error) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(2, exit);
        Assert.Contains(DbPath, error, StringComparison.Ordinal);
    }
}

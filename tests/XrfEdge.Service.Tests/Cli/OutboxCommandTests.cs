using System.CommandLine;
using System.Globalization;
using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
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

    [Fact]
    public void Outbox_MissingFile_ExitsTwo()
    {
        var (exit, _, error) = Invoke("outbox", "--db", DbPath);
        Assert.Equal(2, exit);
        Assert.Contains(DbPath, error, StringComparison.Ordinal);
    }
}

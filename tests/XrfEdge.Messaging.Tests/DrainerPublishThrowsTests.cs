using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The drainer when the transport's publish throws instead of answering: a failure of the row (libmosquitto's
/// MOSQ_ERR_INVAL for a topic it rejects, any unexpected exception) is counted and dead-lettered like a broker refusal,
/// while a failure of the link (MOSQ_ERR_NO_CONN) only waits for the reconnect. No broker: a fake transport on a real
/// SQLite outbox.
/// </summary>
public sealed class DrainerPublishThrowsTests : IDisposable
{
    // Log event ids (src/XrfEdge.Messaging/Log.cs).
    private const int PublishThrewEvent = 7039;
    private const int PublisherLoopFailedEvent = 7031;

    // mosquitto.h, enum mosq_err_t: MOSQ_ERR_INVAL = 3 (e.g. mosquitto_publish_v5 on a topic with '+' or '#'),
    // MOSQ_ERR_NO_CONN = 4.
    private const int MosqErrInval = 3;
    private const int MosqErrNoConn = 4;

    // MQTT 5.0 §2.4: reason 0x80 "Unspecified error", what the drainer records for a publish that threw.
    private const int UnspecifiedError = 0x80;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-throw-" + Guid.NewGuid().ToString("N")[..12]);

    public DrainerPublishThrowsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string DbPath => Path.Combine(_directory, "outbox.db");

    private List<(string Topic, long LastError)> DeadLetters()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT topic, last_error FROM dead_letter ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return rows;
    }

    [Theory]
    [InlineData("inval")]
    [InlineData("unexpected")]
    public async Task Drainer_PublishThrowsForOneRow_CountedLoggedDeadLetteredAfterMaxAttemptsAndRowBehindDelivered(string failure)
    {
        // MaxAttempts 3, as DrainerTests' refusal test: the row is tried exactly three times, then moved.
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, MaxAttempts = 3 });
        var poison = outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "acme/dev1/bad#", Payload = [1] });
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "acme/dev1/detections", Payload = [2] });
        var log = new MemoryLoggerFactory();
        var transport = new FakeMqttTransport
        {
            Throw = m => !m.Topic.EndsWith('#') ? null
                : failure == "inval" ? new MqttException($"Publishing to '{m.Topic}' failed: Invalid arguments provided. (rc {MosqErrInval}).", MosqErrInval)
                : new ArgumentException("unexpected", nameof(m)),
        };
        var drainer = transport.DrainDetections(outbox, log);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            // The row is moved before its last attempt is logged, and leaves the in-flight set only after that: wait for all
            // three and the empty window, then check there are no more.
            await Waiting.UntilAsync(
                () => outbox.GetStatistics() is { Depth: 0, DeadLettered: 1 } && log.WithEvent(PublishThrewEvent).Count >= 3 && drainer.RefusedTotal >= 3 && drainer.InFlight == 0,
                "poison row dead-lettered and its three attempts logged, the row behind it delivered");
            Assert.Equal(["acme/dev1/detections"], transport.Delivered);
            Assert.Equal(3, transport.Attempts.Count(a => a.Topic == "acme/dev1/bad#"));

            var logged = log.WithEvent(PublishThrewEvent);
            Assert.Equal(3, logged.Count);
            Assert.All(logged, e => Assert.Contains($"row {poison.RowId} on 'acme/dev1/bad#'", e.Message, StringComparison.Ordinal));
            Assert.Equal([false, false, true], logged.Select(e => e.Message.EndsWith("dead-lettered: True", StringComparison.Ordinal)));
            Assert.All(logged, e => Assert.NotNull(e.Exception));
            Assert.Equal(3, drainer.RefusedTotal);
            Assert.Equal(("acme/dev1/bad#", (long)UnspecifiedError), Assert.Single(DeadLetters()));
            Assert.Equal(0, drainer.InFlight);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_PublishThrowsNoConnWhileLinkDown_NotCountedNotDeadLetteredSentAfterReconnect()
    {
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, MaxAttempts = 3 });
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "acme/dev1/detections", Payload = [1] });
        var log = new MemoryLoggerFactory();
        var transport = new FakeMqttTransport();
        var linkUp = 0;

        // The link drops inside the publish: libmosquitto answers MOSQ_ERR_NO_CONN for a QoS 0 publish while offline.
        transport.Throw = m =>
        {
            if (Volatile.Read(ref linkUp) != 0)
            {
                return null;
            }

            transport.Disconnect();
            return new MqttException($"Publishing to '{m.Topic}' failed: The client is not currently connected. (rc {MosqErrNoConn}).", MosqErrNoConn);
        };
        var drainer = transport.DrainDetections(outbox, log);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => !transport.Attempts.IsEmpty && drainer.InFlight == 0, "first publish failed and answered");

            // Waiting for the reconnect: the row is neither counted, nor dead-lettered, nor tried again meanwhile.
            var row = Assert.Single(outbox.ReadBatch(0, 10, [OutboxKind.Detection]));
            Assert.Equal(0, row.Attempts);
            Assert.Equal(1, outbox.GetStatistics().Depth);
            Assert.Empty(DeadLetters());
            Assert.Equal(0, log.Count(PublishThrewEvent));
            Assert.Single(transport.Attempts);

            Volatile.Write(ref linkUp, 1);
            transport.Connect();
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "row sent after the reconnect");
            Assert.Equal(["acme/dev1/detections"], transport.Delivered);
            Assert.Empty(DeadLetters());
            Assert.Equal(0, drainer.RefusedTotal);
            Assert.Equal(0, log.Count(PublishThrewEvent));
            Assert.Equal(0, log.Count(PublisherLoopFailedEvent));
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }
}

using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>Which rows the drainer sends as historical (created before the current connection), to the millisecond.</summary>
public sealed class DrainerHistoricalTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-historical-" + Guid.NewGuid().ToString("N")[..12]);

    public DrainerHistoricalTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Drainer_RowStoredInTheConnectsMillisecondAfterIt_GoesOutLiveAndTheBacklogHistorical()
    {
        // created_utc keeps whole milliseconds, the connection's start the clock's ticks: until 2026-11-25 a row stored
        // 0.4 ms after a connect that began 0.3 ms into the same millisecond read as older than it and went out
        // historical (a fresh-clone CI run: LatestDetection_BrokerRestartedWithoutPersistence_…, a live detection).
        var connect = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(3_000);
        var time = new FakeTimeProvider(connect - TimeSpan.FromMilliseconds(1));
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") }, timeProvider: time);
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "backlog", Payload = [1] });
        time.Advance(TimeSpan.FromMilliseconds(1) + TimeSpan.FromTicks(4_000));
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "live", Payload = [2] });

        var transport = new FakeMqttTransport();
        transport.ConnectAt(connect);
        var drainer = new OutboxDrainer(
            transport,
            outbox,
            [OutboxKind.Detection],
            1,
            (row, historical) => new MqttOutboundMessage { Topic = $"{row.Topic}/{(historical ? "historical" : "live")}", Payload = row.Payload, Qos = 1 },
            canSend: null,
            new MemoryLoggerFactory(),
            time);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "both rows delivered");
            Assert.Equal(["backlog/historical", "live/live"], transport.Delivered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Theory]
    [InlineData(0, 3_000, false)]        // stored at the start of the connect's millisecond
    [InlineData(7_000, 3_000, false)]    // after it, same millisecond
    [InlineData(-1, 3_000, true)]        // one tick before the millisecond
    [InlineData(-10_000, 0, true)]       // a whole millisecond before
    public void IsHistorical_ComparedInWholeMilliseconds(long createdTicks, long connectedTicks, bool historical)
    {
        var millisecond = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(historical, OutboxDrainer.IsHistorical(millisecond.AddTicks(createdTicks), millisecond.AddTicks(connectedTicks)));
    }
}

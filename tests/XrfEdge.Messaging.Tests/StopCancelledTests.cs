using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// <see cref="DetectionPublisher.StopAsync"/> and <see cref="SparkplugNode.StopAsync"/> pass their token to the
/// transport's stop; when it fires during the transport's join, the caller gets the <see cref="OperationCanceledException"/>,
/// but the publisher or node still waits for its own loops and counts as stopped (since 2026-11-24, second review). Until
/// then the exception left before that: the loops were not awaited, the state handler stayed attached, and the next stop
/// or dispose ran the whole stop again (a second <c>offline</c> or NDEATH).
/// </summary>
public sealed class StopCancelledTests : IDisposable
{
    private static readonly TopicTree Topics = new("acme", "XRF-0042");
    private static readonly HomeAssistantDiscovery Discovery = new(Topics);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-stopcancel-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SqliteOutbox _outbox;

    // A transport whose join takes until the caller's token fires, as libmosquitto's network thread can.
    private readonly FakeMqttTransport _transport = new() { OnStop = token => Task.Delay(Timeout.Infinite, token) };

    public StopCancelledTests()
    {
        Directory.CreateDirectory(_directory);
        _outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
    }

    public void Dispose()
    {
        _outbox.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private int Sent(string topic) => _transport.Handed.Count(m => m.Topic == topic);

    [Fact]
    public async Task DetectionPublisher_TokenFiresDuringTheTransportsStop_StoppedAnyway()
    {
        var publisher = new DetectionPublisher(_transport, _outbox, Topics, new PublisherOptions { HomeAssistantDiscovery = true, HealthInterval = TimeSpan.FromHours(1) });
        await publisher.StartAsync(CancellationToken.None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => publisher.StopAsync(cancelled.Token));

        // Stopped: a connect reaches no handler of it, and a dispose has nothing left to stop (no second "offline").
        _transport.RaiseStateChanged(MqttConnectionState.Connected);
        Assert.Equal(0, Sent(Discovery.ConfigTopic));
        _transport.OnStop = null;
        await publisher.DisposeAsync();
        Assert.Equal(1, Sent(Topics.Availability));
    }

    [Fact]
    public async Task SparkplugNode_TokenFiresDuringTheTransportsStop_StoppedAnyway()
    {
        var node = new SparkplugNode(_transport, _outbox, "acme", "XRF-0042");
        await node.StartAsync(CancellationToken.None);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.StopAsync(cancelled.Token));

        _transport.OnStop = null;
        await node.DisposeAsync();
        Assert.Equal(1, Sent(node.DeathTopic));
    }
}

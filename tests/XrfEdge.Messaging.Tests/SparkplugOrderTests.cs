using System.Collections.Concurrent;
using System.Threading.Channels;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Transport;
using SpPayload = XrfEdge.Messaging.Sparkplug.Payload;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Order of NBIRTH and NDATA on a Sparkplug node's connection (Sparkplug B 3.0 chapter 5, O "Edge Node Session
/// Establishment": NBIRTH first, seq 0, then NDATA seq 1, 2, …), with a transport that lets another sender act while
/// the NBIRTH is being handed over: the window a health period or the drainer can hit on the real transport.
/// </summary>
public sealed class SparkplugOrderTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-spborder-" + Guid.NewGuid().ToString("N")[..12]);

    public SparkplugOrderTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Records publishes in hand-over order; <see cref="DuringPublish"/> runs before a publish is recorded.</summary>
    private sealed class ReentrantTransport : IMqttTransport
    {
        public ConcurrentQueue<MqttOutboundMessage> Published { get; } = new();

        public Action<MqttOutboundMessage>? DuringPublish { get; set; }

        public Channel<MqttInboundMessage> Inbound { get; } = Channel.CreateUnbounded<MqttInboundMessage>();

        public MqttConnectionState State { get; private set; } = MqttConnectionState.Stopped;

        public MqttProtocolVersion NegotiatedProtocol => MqttProtocolVersion.V5;

        public DateTimeOffset? ConnectedSince => State == MqttConnectionState.Connected ? DateTimeOffset.UtcNow : null;

        public long ReconnectCount => 0;

        public int? LastDisconnectCode => null;

        public event EventHandler<MqttStateChangedEventArgs>? StateChanged;

        public ChannelReader<MqttInboundMessage> Messages => Inbound.Reader;

        public void Connect()
        {
            State = MqttConnectionState.Connected;
            StateChanged?.Invoke(this, new MqttStateChangedEventArgs(MqttConnectionState.Connected, 0, "connected"));
        }

        public void Start()
        {
        }

        public Task WaitConnectedAsync(CancellationToken cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken);

        public void Subscribe(string topicFilter, int qos)
        {
        }

        public Task<MqttPublishOutcome> PublishAsync(MqttOutboundMessage message, CancellationToken cancellationToken)
        {
            DuringPublish?.Invoke(message);
            Published.Enqueue(message);
            return Task.FromResult(new MqttPublishOutcome(0, "sent"));
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public void Birth_HealthReportedWhileNbirthIsHandedOver_NoNdataBeforeTheNbirth()
    {
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
        var transport = new ReentrantTransport();
        var node = new SparkplugNode(transport, outbox, "acme", "XRF-0042");
        var statistics = outbox.GetStatistics();
        var reentered = 0;
        transport.DuringPublish = m =>
        {
            if (m.Topic == node.BirthTopic && Interlocked.Exchange(ref reentered, 1) == 0)
            {
                node.ReportHealth(new InstrumentHealth { DetectorTemperatureCelsius = -31.5 }, statistics);
            }
        };

        transport.Connect();
        node.ReportHealth(new InstrumentHealth { DetectorTemperatureCelsius = -31.4 }, statistics);

        // Until 2026-11-23 the node counted as born before its NBIRTH was handed over: the health NDATA (seq 1) went
        // out first, and a host dropped it as data from an unborn node.
        var order = transport.Published.Select(m => (m.Topic, SpPayload.Parser.ParseFrom(m.Payload.Span).Seq)).ToList();
        Assert.Equal((node.BirthTopic, 0ul), order[0]);
        Assert.Equal([.. Enumerable.Range(1, order.Count - 1).Select(i => (node.DataTopic, (ulong)i))], order.Skip(1));
    }
}

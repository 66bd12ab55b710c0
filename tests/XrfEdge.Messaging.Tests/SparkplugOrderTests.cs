using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Tests.Support;
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
    // Sparkplug B 3.0 §6.4.16, "Data Types": Int64 = 4, Boolean = 11.
    private const uint Int64Type = 4;
    private const uint BooleanType = 11;

    // The node's alias for Detections/Seq (SparkplugNode.Metrics).
    private const ulong DetectionSeqAlias = 3;

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

        public DateTimeOffset? ConnectedSince { get; private set; }

        public long ReconnectCount => 0;

        public int? LastDisconnectCode => null;

        public event EventHandler<MqttStateChangedEventArgs>? StateChanged;

        public ChannelReader<MqttInboundMessage> Messages => Inbound.Reader;

        public void Connect()
        {
            State = MqttConnectionState.Connected;
            ConnectedSince = DateTimeOffset.UtcNow;
            StateChanged?.Invoke(this, new MqttStateChangedEventArgs(MqttConnectionState.Connected, 0, "connected"));
        }

        /// <summary>
        /// The link drops and comes back before either state event is dispatched (MosquittoTransport raises them on a
        /// task of its own): a new connection, no event yet; <see cref="DispatchReconnect"/> delivers them.
        /// </summary>
        public void ReconnectBeforeTheEvents() => ConnectedSince = ConnectedSince!.Value.AddSeconds(1);

        /// <summary>The lagging "disconnected" and "connected" events of <see cref="ReconnectBeforeTheEvents"/>.</summary>
        public void DispatchReconnect()
        {
            StateChanged?.Invoke(this, new MqttStateChangedEventArgs(MqttConnectionState.Disconnected, 7, "connection lost"));
            StateChanged?.Invoke(this, new MqttStateChangedEventArgs(MqttConnectionState.Connected, 0, "connected"));
        }

        public void Start()
        {
        }

        public Task WaitConnectedAsync(CancellationToken cancellationToken) =>
            State == MqttConnectionState.Connected ? Task.CompletedTask : Task.Delay(Timeout.Infinite, cancellationToken);

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
    public void NextWillBdSeq_ProcessRestartedOnTheSameOutbox_GoesOnFromTheLastConnectsBdSeq()
    {
        // Sparkplug: bdSeq +1 per CONNECT, wrapping after 255, so a host can tell the NDEATH of an earlier session from the
        // current one (reference mqtt-and-systemd.md, Sparkplug 3). Until 2026-11-24 it restarted at 0 with every process:
        // after a crash in a session of bdSeq 0 the broker's late NDEATH of that session named the bdSeq of the new
        // NBIRTH. Kept in the outbox's counters table, which outlives the process.
        var path = Path.Combine(_directory, "outbox.db");
        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = path }))
        {
            var node = new SparkplugNode(new ReentrantTransport(), outbox, "acme", "XRF-0042");
            Assert.Equal(0, node.NextWillBdSeq()); // a new file: the first CONNECT ever has bdSeq 0
            Assert.Equal(1, node.NextWillBdSeq());
            Assert.Equal(1, node.BdSeq);
        }

        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = path }))
        {
            var restarted = new SparkplugNode(new ReentrantTransport(), outbox, "acme", "XRF-0042");
            Assert.Equal(2, restarted.NextWillBdSeq());
            Assert.Equal(2, restarted.BdSeq);

            // Wraps after 255 (2 + 253 = 255, then 0), as in one process.
            for (var i = 0; i < 253; i++)
            {
                restarted.NextWillBdSeq();
            }

            Assert.Equal(255, restarted.BdSeq);
            Assert.Equal(0, restarted.NextWillBdSeq());
        }
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

    [Fact]
    public async Task Rebirth_WhileTheDrainerHandsAnNdataOver_EveryNdataAfterTheNewNbirthCarriesItsSeq()
    {
        // A host asks for a rebirth (NCMD Node Control/Rebirth) while the drainer is handing a stored NDATA row over.
        // Until 2026-11-24 the row's seq was taken when it was encoded, before the hand-over: a rebirth in between reset
        // the seq and published the NBIRTH, and the row followed it with the previous birth's seq (1 after the new
        // NBIRTH, then 1 again for the next row), an out-of-order seq for which a host may ask for yet another rebirth.
        // Three rows; the rebirth comes from the node's command loop (another thread) during the first row's hand-over.
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
        var transport = new ReentrantTransport();
        await using var node = new SparkplugNode(transport, outbox, "acme", "XRF-0042");
        StoreNdataRows(outbox, node, 3);

        var rebirth = new SpPayload { Timestamp = 1_700_000_000_000 };
        rebirth.Metrics.Add(new SpPayload.Types.Metric { Name = "Node Control/Rebirth", Datatype = BooleanType, BooleanValue = true });
        var asked = 0;
        transport.DuringPublish = m =>
        {
            if (m.Topic == node.DataTopic && Interlocked.Exchange(ref asked, 1) == 0)
            {
                transport.Inbound.Writer.TryWrite(new MqttInboundMessage { Topic = node.CommandTopic, Payload = rebirth.ToByteArray(), Qos = 1 });

                // Before the fix the second NBIRTH is handed over within milliseconds, ahead of this row; with it, the
                // rebirth waits for this hand-over, so this wait runs to its bound (3 s; a failure bound, not a timing
                // assertion).
                SpinWait.SpinUntil(() => transport.Published.Count(p => p.Topic == node.BirthTopic) >= 2, TimeSpan.FromSeconds(3));
            }
        };

        transport.Connect();
        await node.StartAsync(CancellationToken.None);
        await Waiting.UntilAsync(
            () => outbox.GetStatistics().Depth == 0 && transport.Published.Count(p => p.Topic == node.BirthTopic) == 2,
            "three rows sent and the rebirth done", timeoutSeconds: 60);

        var order = transport.Published.Select(m => (m.Topic, SpPayload.Parser.ParseFrom(m.Payload.Span).Seq)).ToList();
        var lastBirth = order.FindLastIndex(o => o.Topic == node.BirthTopic);
        var afterBirth = order.Skip(lastBirth + 1).ToList();
        Assert.NotEmpty(afterBirth);
        Assert.Equal([.. Enumerable.Range(1, afterBirth.Count).Select(i => (node.DataTopic, (ulong)i))], afterBirth);
    }

    [Fact]
    public async Task Reconnect_BeforeItsEventsAreDispatched_NoNdataOnTheNewConnectionBeforeItsNbirth()
    {
        // The link drops and libmosquitto reconnects while the node's "disconnected"/"connected" events still wait to be
        // dispatched (a busy thread pool): the transport is connected again and the node still thinks it is born. Until
        // 2026-11-24 (fourth review) the drainer went on handing NDATA over on the new connection, ahead of its NBIRTH and
        // with the previous birth's seq (spec O: NBIRTH first on every connection). Three stored rows; the reconnect
        // happens during the first row's hand-over.
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
        var transport = new ReentrantTransport();
        await using var node = new SparkplugNode(transport, outbox, "acme", "XRF-0042");
        StoreNdataRows(outbox, node, 3);

        var dropped = 0;
        transport.DuringPublish = m =>
        {
            if (m.Topic == node.DataTopic && Interlocked.Exchange(ref dropped, 1) == 0)
            {
                transport.ReconnectBeforeTheEvents();
            }
        };

        transport.Connect();
        await node.StartAsync(CancellationToken.None);
        await Waiting.UntilAsync(() => Volatile.Read(ref dropped) == 1, "the first row handed over", timeoutSeconds: 60);

        // Give the drainer the chance to hand the other rows over before the events come: before the fix it does so
        // within milliseconds; with it, this wait runs to its bound (2 s; a failure bound, not a timing assertion).
        SpinWait.SpinUntil(() => outbox.GetStatistics().Depth == 0, TimeSpan.FromSeconds(2));
        transport.DispatchReconnect();
        await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "every row sent", timeoutSeconds: 60);

        var order = transport.Published.Select(m => (m.Topic, SpPayload.Parser.ParseFrom(m.Payload.Span).Seq)).ToList();
        Assert.Equal(
            [(node.BirthTopic, 0ul), (node.DataTopic, 1ul), (node.BirthTopic, 0ul), (node.DataTopic, 1ul), (node.DataTopic, 2ul)],
            order);
    }

    [Fact]
    public async Task StoredRow_SentLater_PayloadTimestampIsTheSendTimeMetricTimestampsTheAcquisition()
    {
        // Sparkplug B 3.0 chapter 6, NDATA: "NDATA messages MUST include a payload timestamp that denotes the time at
        // which the message was published" (tck-id-payloads-ndata-timestamp); a metric's timestamp is the time its value
        // was captured. Until 2026-11-24 a stored row kept the acquisition time as its payload timestamp, so a backlog
        // replayed after a week offline went out stamped a week before it was published.
        const ulong AcquiredMs = 1_700_000_000_000; // 2023-11-14T22:13:20Z, any time well before the clock below
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
        var transport = new ReentrantTransport();
        await using var node = new SparkplugNode(transport, outbox, "acme", "XRF-0042", timeProvider: clock);
        var data = new SpPayload { Timestamp = AcquiredMs };
        data.Metrics.Add(new SpPayload.Types.Metric { Alias = DetectionSeqAlias, Timestamp = AcquiredMs, Datatype = Int64Type, LongValue = 1 });
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.SparkplugData, Topic = node.DataTopic, Payload = data.ToByteArray(), Qos = 0 });

        transport.Connect();
        await node.StartAsync(CancellationToken.None);
        await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "the row sent", timeoutSeconds: 60);

        var sent = SpPayload.Parser.ParseFrom(transport.Published.Single(m => m.Topic == node.DataTopic).Payload.Span);
        Assert.Equal((ulong)clock.GetUtcNow().ToUnixTimeMilliseconds(), sent.Timestamp);
        Assert.Equal(AcquiredMs, sent.Metrics.Single().Timestamp);
    }

    /// <summary>Stores <paramref name="count"/> NDATA rows for <paramref name="node"/>, each with its index as the detection seq metric.</summary>
    private static void StoreNdataRows(SqliteOutbox outbox, SparkplugNode node, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var data = new SpPayload { Timestamp = 1_700_000_000_000 };
            data.Metrics.Add(new SpPayload.Types.Metric { Alias = DetectionSeqAlias, Datatype = Int64Type, LongValue = (ulong)i });
            outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.SparkplugData, Topic = node.DataTopic, Payload = data.ToByteArray(), Qos = 0 });
        }
    }
}

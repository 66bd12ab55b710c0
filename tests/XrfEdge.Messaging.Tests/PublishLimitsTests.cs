using System.Globalization;
using System.Text;
using System.Text.Json;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;
using XrfEdge.Spectra;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// What the publisher does at the edges of the contract (docs/mqtt.md §1): payloads the broker cannot take, refusals of
/// messages that have no outbox row, and the published JSON under a non-invariant culture, all through a real broker.
/// </summary>
public sealed class PublishLimitsTests : IDisposable
{
    private static readonly TopicTree Topics = new("acme", "XRF-0042");

    // Log event ids (src/XrfEdge.Messaging/Log.cs).
    private const int PublishRefusedEvent = 7030;
    private const int AuxiliaryPublishRefusedEvent = 7054;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-limits-" + Guid.NewGuid().ToString("N")[..12]);

    public PublishLimitsTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SqliteOutbox OpenOutbox() => SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });

    private static MqttTransportOptions DeviceTransport(MosquittoBroker broker, string clientId) => Program.DeviceTransport(broker.Port, clientId, Topics);

    /// <summary>A 16384-channel spectrum (the largest MCA set-up the brief names) with 10^5–10^6 counts per channel.</summary>
    private static byte[] LargeSpectrum(string measurementId)
    {
        var spectrum = TestData.Measurement(measurementId).Spectrum with
        {
            Counts = [.. Enumerable.Range(0, 16384).Select(c => 100_000L + (c * 53L))],
        };
        return SpectrumPayload.Encode(measurementId, Topics.Device, spectrum, null);
    }

    [Fact]
    public async Task Drainer_RowLargerThanBrokersMaximumPacketSize_RefusedDeadLetteredAndNextRowDelivered()
    {
        // max_packet_size 32768: mosquitto 2.0 announces it as the MQTT 5 CONNACK Maximum Packet Size (mosquitto.conf(5)),
        // and libmosquitto then refuses a larger publish itself (MOSQ_ERR_OVERSIZE_PACKET). The 16384-channel spectrum
        // packs to about 49 KB (3-byte varints), so it can never be sent on this broker.
        using var broker = MosquittoBroker.Started(extraConfig: "max_packet_size 32768");
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, "xrf/#");
        using var outbox = OpenOutbox();
        var logs = new MemoryLoggerFactory();
        await using var transport = new MosquittoTransport(DeviceTransport(broker, "dev-big"));
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, loggerFactory: logs);

        var big = LargeSpectrum("M-BIG");
        Assert.InRange(big.Length, 32768, 65536);
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Spectrum, Topic = Topics.Spectrum("M-BIG"), Payload = big, Qos = 1, ContentType = SpectrumPayload.ContentType });
        var receipt = publisher.Enqueue(TestData.Measurement("M-0002"));
        await publisher.StartAsync(CancellationToken.None);

        var detection = await subscriber.WaitForTopicAsync(Topics.Detections);
        Assert.Equal(receipt.Stamp.Seq, JsonDocument.Parse(detection.Payload).RootElement.GetProperty("seq").GetInt64());

        // Until 2026-11-23 the oversized row was handed over, thrown back and handed over again every ~20 ms, for ever,
        // without a log: depth stayed 1 and nothing was dead-lettered. Now it is refused (0x95) like a broker refusal.
        // The row is moved before its last refusal is logged: wait for the fifth log itself, then check there are no more.
        await Waiting.UntilAsync(
            () => outbox.GetStatistics() is { Depth: 0, DeadLettered: 1 } && logs.Count(PublishRefusedEvent) >= 5,
            "oversized spectrum dead-lettered and its five refusals logged");
        var refusals = logs.WithEvent(PublishRefusedEvent);
        Assert.Equal(5, refusals.Count); // OutboxOptions.MaxAttempts default: refused 5 times, the last one dead-letters it
        Assert.All(refusals, r => Assert.Contains("packet too large", r.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(subscriber.Received, m => m.Topic == Topics.Spectrum("M-BIG"));
        await publisher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Drainer_DetectionOverMaxPacketBytesOnMqtt311Broker_DeadLetteredNamingSizeAndLimitAndSmallerDetectionDelivered()
    {
        // message_size_limit 4096 on an MQTT 3.1.1 connection: mosquitto drops a larger message and still acknowledges
        // it (docs/mqtt.md "Payload size limits"), so until 2026-11-23 the row below was deleted as delivered and no
        // dashboard ever saw it, without a log. Mqtt:MaxPacketBytes set to the broker's limit refuses it here instead.
        using var broker = MosquittoBroker.Started(extraConfig: "message_size_limit 4096");
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, Topics.Detections);
        using var outbox = OpenOutbox();
        var logs = new MemoryLoggerFactory();
        var options = DeviceTransport(broker, "dev-maxpacket");
        options.Protocol = MqttProtocolVersion.V311;
        options.MaxPacketBytes = 4096;
        await using var transport = new MosquittoTransport(options);
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, loggerFactory: logs);

        // A detection with a long element list: 6,000 bytes of payload, over the limit whatever the header adds.
        var big = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.detections/1\",\"measurement_id\":\"M-BIG\",\"pad\":\"{new string('p', 5_940)}\"}}");
        var bigRow = outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = Topics.Detections, Payload = big, Qos = 1 });
        var packetBytes = MqttPacketSize.Publish(new MqttOutboundMessage { Topic = Topics.Detections, Payload = big, Qos = 1 }, v5: false);
        Assert.InRange(packetBytes, 4097, 8192);
        var small = publisher.Enqueue(TestData.Measurement("M-SMALL"));
        await publisher.StartAsync(CancellationToken.None);

        var delivered = await subscriber.WaitForTopicAsync(Topics.Detections);
        Assert.Equal(small.Stamp.Seq, JsonDocument.Parse(delivered.Payload).RootElement.GetProperty("seq").GetInt64());
        Assert.InRange(delivered.Payload.Length, 1, 4096 - 100); // under the limit with room for the 3.1.1 header

        // Refused before sending, five times (OutboxOptions.MaxAttempts' default), like a broker's 0x95; the row is moved
        // before its last refusal is logged, so the log is waited for itself.
        await Waiting.UntilAsync(
            () => outbox.GetStatistics() is { Depth: 0, DeadLettered: 1 } && logs.Count(PublishRefusedEvent) >= 5,
            "oversized detection dead-lettered and its five refusals logged");
        var refusals = logs.WithEvent(PublishRefusedEvent);
        Assert.Equal(5, refusals.Count);
        Assert.All(refusals, r => Assert.Contains($"outbox row {bigRow.RowId} on '{Topics.Detections}' with reason 0x95 (packet too large: the MQTT 3.1.1 PUBLISH", r.Message, StringComparison.Ordinal));
        Assert.All(refusals, r => Assert.Contains($"is {packetBytes} bytes ({big.Length} bytes of payload), over the limit of 4096 bytes (MaxPacketBytes)", r.Message, StringComparison.Ordinal));
        Assert.EndsWith("dead-lettered: True", refusals[^1].Message, StringComparison.Ordinal);
        Assert.Single(subscriber.Received, m => m.Topic == Topics.Detections);
        await publisher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task PublishStatus_OverMaxPacketBytes_RefusedBeforeSendingAndLogged()
    {
        // status has no outbox row: a status over the limit is logged as a refusal (7054) with its size and the limit,
        // as a broker's 0x95 would be. Until 2026-11-23 there was no limit of our own and it went to the broker.
        using var broker = MosquittoBroker.Started();
        using var outbox = OpenOutbox();
        var logs = new MemoryLoggerFactory();
        var options = DeviceTransport(broker, "dev-status-size");
        options.MaxPacketBytes = 1024;
        await using var transport = new MosquittoTransport(options);
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, loggerFactory: logs);
        await publisher.StartAsync(CancellationToken.None);
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        // A last error of 2,000 characters (a long exception text): the status alone is then over 1024 bytes.
        await publisher.PublishStatusAsync(new InstrumentStatus { State = "fault", BootId = "b", AppVersion = "1", LastError = new string('e', 2_000) }, CancellationToken.None);

        var refused = Assert.Single(logs.WithEvent(AuxiliaryPublishRefusedEvent));
        Assert.Contains(Topics.Status, refused.Message, StringComparison.Ordinal);
        Assert.Contains("0x95", refused.Message, StringComparison.Ordinal);
        Assert.Contains("over the limit of 1024 bytes (MaxPacketBytes)", refused.Message, StringComparison.Ordinal);
        await publisher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task MaxPacketBytes_BrokerAnnouncesItsOwnMaximum_TheSmallerOneApplies()
    {
        // max_packet_size 32768 is announced in the MQTT 5 CONNACK (mosquitto.conf(5)). Ours above it: the broker's
        // applies; ours below it: ours applies; none of ours: the broker's. One rule in the transport for both.
        using var broker = MosquittoBroker.Started(extraConfig: "max_packet_size 32768");
        async Task<MosquittoTransport> ConnectAsync(string clientId, int? maxPacketBytes)
        {
            var options = Program.ChildTransport(broker.Port, clientId);
            options.MaxPacketBytes = maxPacketBytes;
            var transport = new MosquittoTransport(options);
            transport.Start();
            await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
            return transport;
        }

        await using var above = await ConnectAsync("size-above", 65_536);
        await using var below = await ConnectAsync("size-below", 4_096);
        await using var unset = await ConnectAsync("size-unset", null);
        Assert.Equal(32_768, above.MaximumPacketBytes);
        Assert.Equal(4_096, below.MaximumPacketBytes);
        Assert.Equal(32_768, unset.MaximumPacketBytes);

        var message = new MqttOutboundMessage { Topic = "limits/size", Payload = new byte[40_000], Qos = 1 };
        var byBroker = await above.PublishAsync(message, CancellationToken.None);
        Assert.Equal(0x95, byBroker.ReasonCode);
        Assert.Contains("over the limit of 32768 bytes (the broker's Maximum Packet Size; MaxPacketBytes is 65536)", byBroker.Description, StringComparison.Ordinal);
        var byUs = await below.PublishAsync(message with { Payload = new byte[5_000] }, CancellationToken.None);
        Assert.Equal(0x95, byUs.ReasonCode);
        Assert.Contains("over the limit of 4096 bytes (MaxPacketBytes; the broker's Maximum Packet Size is 32768)", byUs.Description, StringComparison.Ordinal);
        Assert.True((await below.PublishAsync(message with { Payload = new byte[3_000] }, CancellationToken.None)).Accepted);
    }

    [Fact]
    public async Task PublishStatus_RefusedByBrokersAcl_RefusalLogged()
    {
        // The device may write its availability but not its status: mosquitto answers the status PUBACK 0x87 (v5).
        // status has no outbox row; until 2026-11-23 the refusal vanished (nobody looked at the outcome), so a
        // dashboard showed a stale status and the device's log said nothing.
        var acl = Path.Combine(_directory, "acl");
        File.WriteAllLines(acl, ["topic read #", $"topic write {Topics.Availability}"]);
        using var broker = MosquittoBroker.Started(listenerConfig: $"allow_anonymous true\nacl_file {acl}");
        using var outbox = OpenOutbox();
        var logs = new MemoryLoggerFactory();
        await using var transport = new MosquittoTransport(DeviceTransport(broker, "dev-status"));
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, loggerFactory: logs);
        await publisher.StartAsync(CancellationToken.None);
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        await publisher.PublishStatusAsync(new InstrumentStatus { State = "idle", BootId = "b", AppVersion = "1" }, CancellationToken.None);

        var refused = Assert.Single(logs.WithEvent(AuxiliaryPublishRefusedEvent));
        Assert.Contains(Topics.Status, refused.Message, StringComparison.Ordinal);
        Assert.Contains("0x87", refused.Message, StringComparison.Ordinal);
        await publisher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task EveryJsonTopic_UnderCommaDecimalCulture_MatchesSchemasWithRfc3339Times()
    {
        // The service runs with InvariantGlobalization (Directory.Build.props), so de-DE cannot even be created; a clone
        // of the invariant culture with de-DE's separators stands in for a host that sets one (decimal ',', group '.').
        var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        comma.NumberFormat.NumberGroupSeparator = ".";
        comma.DateTimeFormat.DateSeparator = ".";
        var (current, ui, defaultCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture, CultureInfo.DefaultThreadCurrentCulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.DefaultThreadCurrentCulture = comma;
        try
        {
            using var broker = MosquittoBroker.Started();
            await using var subscriber = await TestSubscriber.ConnectAsync(broker, "#");
            using var outbox = OpenOutbox();
            await using var transport = new MosquittoTransport(DeviceTransport(broker, "dev-culture"));
            await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) });
            publisher.SetHealthSource(() => new InstrumentHealth { DetectorTemperatureCelsius = -31.8, DeadTimePercent = 4.33, Uptime = TimeSpan.FromSeconds(12.5) }, static () => null);
            await publisher.StartAsync(CancellationToken.None);
            await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

            publisher.Enqueue(TestData.Measurement("M-DE"));
            await publisher.PublishStatusAsync(new InstrumentStatus { State = "measuring", BootId = "b", AppVersion = "1.2.3" }, CancellationToken.None);
            await publisher.PublishHealthAsync(CancellationToken.None);
            await using var requester = new MosquittoTransport(Program.ChildTransport(broker.Port, "requester-de"));
            requester.Start();
            await requester.WaitConnectedAsync(CancellationToken.None);
            await requester.PublishAsync(new MqttOutboundMessage { Topic = Topics.Command("ping"), Payload = """{"command_id":"p-1"}"""u8.ToArray() }, CancellationToken.None);

            foreach (var (topic, schema) in new[]
            {
                (Topics.Detections, "detections.schema.json"),
                (Topics.Status, "status.schema.json"),
                (Topics.Health, "health.schema.json"),
                (Topics.DefaultResponse, "command-response.schema.json"),
            })
            {
                var message = await subscriber.WaitForTopicAsync(topic);
                Assert.True(MiniJsonSchema.Validate(schema, message.Payload) is { Count: 0 }, $"{topic}: {string.Join("; ", MiniJsonSchema.Validate(schema, message.Payload))}");
            }

            // TestData: live 28.7 s; the health source's -31.8 °C: written with '.', whatever the culture.
            var detection = Encoding.UTF8.GetString((await subscriber.WaitForTopicAsync(Topics.Detections)).Payload);
            Assert.Contains("\"live_s\":28.7", detection, StringComparison.Ordinal);
            Assert.Contains("\"detector\":-31.8", Encoding.UTF8.GetString((await subscriber.WaitForTopicAsync(Topics.Health)).Payload), StringComparison.Ordinal);
            await publisher.StopAsync(CancellationToken.None);
        }
        finally
        {
            CultureInfo.CurrentCulture = current;
            CultureInfo.CurrentUICulture = ui;
            CultureInfo.DefaultThreadCurrentCulture = defaultCulture;
        }
    }

    [Fact]
    public async Task PublishHealth_ClockWentBackSinceOldestRow_HealthFromBrokerMatchesSchema()
    {
        // A Pi has no RTC: after a reboot it runs at its last saved time until NTP answers, so rows stored before the
        // reboot can lie in its future. The outbox clamps the age at 0 (the schema's minimum); this keeps it so.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 10, 1, 30, TimeSpan.Zero));
        using var broker = MosquittoBroker.Started();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, Topics.Health);
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") }, null, clock);
        outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = Topics.Detections, Payload = [1], Qos = 1 });
        clock.Advance(TimeSpan.FromSeconds(-90));

        // Only the transport runs (no drainer), so the row stays queued while health is published.
        await using var transport = new MosquittoTransport(DeviceTransport(broker, "dev-clock"));
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, timeProvider: clock);
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        await publisher.PublishHealthAsync(CancellationToken.None);

        var health = await subscriber.WaitForTopicAsync(Topics.Health);
        Assert.Empty(MiniJsonSchema.Validate("health.schema.json", health.Payload));
        Assert.Equal(0, JsonDocument.Parse(health.Payload).RootElement.GetProperty("outbox").GetProperty("oldest_age_s").GetDouble());
        Assert.Equal(1, outbox.GetStatistics().Depth);
        await transport.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Sparkplug_BrokerRestart_NewNbirthHasNextBdSeqSeqZeroAndNdeathMatchesIt()
    {
        // Sparkplug B 3.0 chapter 5 (O, "Edge Node Session Establishment"): bdSeq +1 per CONNECT, the NBIRTH carries the
        // bdSeq of its CONNECT's will and seq 0. The subscriber keeps a persistent session on a persistent broker that
        // queues QoS 0, so it sees the births whichever of the two reconnects first.
        using var broker = MosquittoBroker.Started(extraConfig: "queue_qos0_messages true", persistence: true);
        await using (await TestSubscriber.ConnectAsync(broker, "spBv1.0/#", clientId: "spb-sub", protocol: MqttProtocolVersion.V311, cleanSession: false))
        {
        }

        using var outbox = OpenOutbox();
        await using var node = Adapters.SparkplugNode.Create(Program.ChildTransport(broker.Port, "dev-spb-restart"), outbox, "acme", "XRF-0042");
        await node.StartAsync(CancellationToken.None);
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, "spBv1.0/#", clientId: "spb-sub", protocol: MqttProtocolVersion.V311, cleanSession: false);
        var first = Sparkplug.Payload.Parser.ParseFrom((await subscriber.WaitForTopicAsync(node.BirthTopic)).Payload);
        Assert.Equal(0ul, first.Metrics.Single(m => m.Name == "bdSeq").LongValue);

        broker.Terminate();
        broker.Start();
        await subscriber.WaitUntilAsync(() => subscriber.Received.Count(m => m.Topic == node.BirthTopic) >= 2, 30);
        var second = Sparkplug.Payload.Parser.ParseFrom(subscriber.Received.Where(m => m.Topic == node.BirthTopic).ElementAt(1).Payload);
        Assert.Equal(1ul, second.Metrics.Single(m => m.Name == "bdSeq").LongValue);
        Assert.Equal(0ul, second.Seq);

        // mosquitto publishes the first connection's will (NDEATH, bdSeq 0) as it shuts down; the node's own NDEATH at
        // its clean stop carries the second connection's bdSeq, so a host pairs each death with its birth.
        await node.StopAsync(CancellationToken.None);
        await subscriber.WaitUntilAsync(() => subscriber.Received.Any(m => m.Topic == node.DeathTopic && Sparkplug.Payload.Parser.ParseFrom(m.Payload).Metrics[0].LongValue == 1), 30);
        Assert.All(subscriber.Received.Where(m => m.Topic == node.DeathTopic), d => Assert.InRange(Sparkplug.Payload.Parser.ParseFrom(d.Payload).Metrics.Single(m => m.Name == "bdSeq").LongValue, 0ul, 1ul));
    }

    [Fact]
    public async Task CommandReply_RefusedByBrokersAcl_RefusalLogged()
    {
        // The device may read its commands and write its availability, not its cmd_resp: the ping's reply gets PUBACK
        // 0x87. Until 2026-11-23 the outcome was not looked at, so the device's log did not say why nobody got answers.
        var acl = Path.Combine(_directory, "acl");
        File.WriteAllLines(acl, ["topic read #", $"topic write {Topics.Availability}", $"topic write {Topics.Root}/cmd/#"]);
        using var broker = MosquittoBroker.Started(listenerConfig: $"allow_anonymous true\nacl_file {acl}");
        using var outbox = OpenOutbox();
        var logs = new MemoryLoggerFactory();
        await using var transport = new MosquittoTransport(DeviceTransport(broker, "dev-reply"));
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, loggerFactory: logs);
        await publisher.StartAsync(CancellationToken.None);
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        await using var requester = new MosquittoTransport(Program.ChildTransport(broker.Port, "requester-acl"));
        requester.Start();
        await requester.WaitConnectedAsync(CancellationToken.None);

        // Sent until the device (subscribed on connect) has handled one.
        await Waiting.UntilAsync(
            () =>
            {
                _ = requester.PublishAsync(new MqttOutboundMessage { Topic = Topics.Command("ping"), Payload = Encoding.UTF8.GetBytes($"{{\"command_id\":\"p-{Guid.NewGuid():N}\"}}") }, CancellationToken.None);
                return logs.Count(AuxiliaryPublishRefusedEvent) > 0;
            },
            "ping reply refused and logged");
        var refused = logs.WithEvent(AuxiliaryPublishRefusedEvent)[0];
        Assert.Contains(Topics.DefaultResponse, refused.Message, StringComparison.Ordinal);
        Assert.Contains("0x87", refused.Message, StringComparison.Ordinal);
        await publisher.StopAsync(CancellationToken.None);
    }
}

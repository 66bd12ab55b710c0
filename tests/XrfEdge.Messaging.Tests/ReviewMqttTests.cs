using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using XrfEdge.Messaging.Commands;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Security review (branch review-mqtt): each test states the SAFE behaviour and fails on the current code.
/// No broker: an in-memory transport records what the device would publish and lets a test hold a PUBACK back.
/// </summary>
public sealed class ReviewMqttTests
{
    private static readonly TopicTree Topics = new("acme", "XRF-0042");

    /// <summary>In-memory transport: records publishes; a publish whose topic matches <see cref="Hold"/> waits for <see cref="Release"/>.</summary>
    private sealed class MemoryTransport : IMqttTransport
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _outstanding;
        private int _maxOutstanding;

        public ConcurrentQueue<MqttOutboundMessage> Published { get; } = new();

        public Channel<MqttInboundMessage> Inbound { get; } = Channel.CreateUnbounded<MqttInboundMessage>();

        public Func<MqttOutboundMessage, bool> Hold { get; set; } = _ => false;

        public int MaxOutstanding => Volatile.Read(ref _maxOutstanding);

        public void Release() => _release.TrySetResult();

        public MqttConnectionState State => MqttConnectionState.Connected;

        public MqttProtocolVersion NegotiatedProtocol => MqttProtocolVersion.V5;

        public DateTimeOffset? ConnectedSince => DateTimeOffset.UtcNow;

        public long ReconnectCount => 0;

        public int? LastDisconnectCode => null;

#pragma warning disable CS0067 // never raised: always connected
        public event EventHandler<MqttStateChangedEventArgs>? StateChanged;
#pragma warning restore CS0067

        public ChannelReader<MqttInboundMessage> Messages => Inbound.Reader;

        public void Start()
        {
        }

        public Task WaitConnectedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Subscribe(string topicFilter, int qos)
        {
        }

        public async Task<MqttPublishOutcome> PublishAsync(MqttOutboundMessage message, CancellationToken cancellationToken)
        {
            Published.Enqueue(message);
            if (!Hold(message))
            {
                return new MqttPublishOutcome(0, "success");
            }

            var now = Interlocked.Increment(ref _outstanding);
            InterlockedMax(ref _maxOutstanding, now);
            try
            {
                await _release.Task.WaitAsync(cancellationToken);
                return new MqttPublishOutcome(0, "success");
            }
            finally
            {
                Interlocked.Decrement(ref _outstanding);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }

    /// <summary>Records the order of start/stop calls, as the service's MeasurementControl would see them.</summary>
    private sealed class RecordingHandler : IInstrumentCommandHandler
    {
        public ConcurrentQueue<(string Call, DateTimeOffset At)> Calls { get; } = new();

        public bool InterlockAllowsExposure { get; set; } = true;

        public Task<CommandResult> StartAsync(StartCommand command, CancellationToken cancellationToken)
        {
            Calls.Enqueue(("start", DateTimeOffset.UtcNow));
            return Task.FromResult(CommandResult.Completed());
        }

        public Task<CommandResult> StopAsync(CancellationToken cancellationToken)
        {
            Calls.Enqueue(("stop", DateTimeOffset.UtcNow));
            return Task.FromResult(CommandResult.Completed());
        }

        public Task<CommandResult> SetPresetAsync(TimeSpan preset, CancellationToken cancellationToken) => Task.FromResult(CommandResult.Completed());

        public int Count(string call) => Calls.Count(c => c.Call == call);
    }

    private static CommandProcessor Processor(MemoryTransport transport, RecordingHandler handler, CommandOptions? options = null) =>
        new(Topics, transport, options ?? new CommandOptions { RemoteControlEnabled = true }, handler, (_, _) => Task.FromResult<string?>(null));

    private static MqttInboundMessage Command(string name, string json, string? responseTopic = null) => Command(name, Encoding.UTF8.GetBytes(json), responseTopic);

    private static MqttInboundMessage Command(string name, byte[] payload, string? responseTopic = null) => new()
    {
        Topic = Topics.Command(name),
        Payload = payload,
        Qos = 1,
        ResponseTopic = responseTopic,
    };

    private static string Now(double offsetSeconds = 0) => DateTimeOffset.UtcNow.AddSeconds(offsetSeconds).ToString("O", CultureInfo.InvariantCulture);

    // ---- 1. Exposure control -------------------------------------------------------------------------------------

    [Fact]
    public async Task Stop_CommandIdAlreadyUsedByAPing_StopIsStillExecuted()
    {
        // A client allowed to publish only cmd/ping (or any command) can "burn" the ids a dashboard will use for stop:
        // de-duplication is keyed on command_id alone, across commands, and duplicates are dropped without a reply.
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        await processor.HandleAsync(Command("ping", """{"command_id":"op-17"}"""), CancellationToken.None);
        await processor.HandleAsync(Command("stop", """{"command_id":"op-17"}"""), CancellationToken.None);
        Assert.Equal(1, handler.Count("stop"));
    }

    [Fact]
    public async Task Start_WithoutTs_ReplayedAfterDedupWindowRolls_XrayNotStartedTwice()
    {
        // ts is optional, so a start without ts never expires; the only replay guard is a 1,024-entry FIFO of ids.
        // (Fix C4 makes ts required for start, so the replayed start carries one: still valid, the replay must be caught
        // by the time-based de-duplication however many commands come between. Start_WithoutTs_RejectedInvalid covers
        // the start without ts.)
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        var start = Command("start", $$"""{"command_id":"s-1","preset_s":3600,"ts":"{{Now()}}"}""");
        await processor.HandleAsync(start, CancellationToken.None);
        for (var i = 0; i < 1024; i++)
        {
            await processor.HandleAsync(Command("ping", $$"""{"command_id":"flood-{{i}}"}"""), CancellationToken.None);
        }

        await processor.HandleAsync(start, CancellationToken.None); // the same message, replayed (or redelivered)
        Assert.Equal(1, handler.Count("start"));
    }

    [Fact]
    public async Task Start_AcceptedReplyPubackDelayed_NotExecutedAfterItExpired()
    {
        // The age check runs at receipt; the handler runs only after the "accepted" reply's PUBACK, or after MaxAge
        // when it never comes (SendAsync swallows its own timeout), so a start runs up to 2 x MaxAge after it was issued.
        var transport = new MemoryTransport { Hold = m => m.Payload.Span.IndexOf("\"accepted\""u8) >= 0 };
        var handler = new RecordingHandler();
        var options = new CommandOptions { RemoteControlEnabled = true, MaxAge = TimeSpan.FromSeconds(1) };
        var processor = Processor(transport, handler, options);
        var issued = DateTimeOffset.UtcNow.AddSeconds(-0.8);
        await processor.HandleAsync(Command("start", $$"""{"command_id":"late-1","ts":"{{issued.ToString("O", CultureInfo.InvariantCulture)}}"}"""), CancellationToken.None);
        var executed = handler.Calls.Where(c => c.Call == "start").Select(c => (double?)(c.At - issued).TotalSeconds).FirstOrDefault();

        // The start is 0.8 s old on arrival and still valid: running it at once, without waiting for the PUBACK, is the
        // fix; only running it after ts + MaxAge (1 s) is the defect. 0.05 s: the time between the processor's last age
        // check and the handler's own clock reading, far more than the microseconds it takes.
        Assert.True(executed is null || executed <= 1.05, $"start executed {executed:F2} s after its ts with MaxAge = 1 s");
    }

    [Fact]
    public async Task Start_WithoutTsOrMessageExpiry_RejectedInvalid()
    {
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        await processor.HandleAsync(Command("start", """{"command_id":"nots-1"}"""), CancellationToken.None);
        Assert.Equal(0, handler.Count("start"));
        var reply = Assert.Single(transport.Published);
        using var json = JsonDocument.Parse(reply.Payload);
        Assert.Equal("invalid", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("'ts'", json.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_V5MessageExpiryWithinMaxAge_RunsWithoutTs()
    {
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        await processor.HandleAsync(Command("start", """{"command_id":"exp-1"}""") with { MessageExpiry = TimeSpan.FromSeconds(30) }, CancellationToken.None);
        Assert.Equal(1, handler.Count("start"));
    }

    [Fact]
    public async Task Stop_SameIdTwice_ExecutedTwice()
    {
        // Stopping twice is harmless; dropping a stop as a duplicate is not.
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        await processor.HandleAsync(Command("stop", """{"command_id":"st-1"}"""), CancellationToken.None);
        await processor.HandleAsync(Command("stop", """{"command_id":"st-1"}"""), CancellationToken.None);
        Assert.Equal(2, handler.Count("stop"));
    }

    [Theory]
    [InlineData("xrf/v1/acme/_ops/dash-7/resp", "xrf/v1/acme/_ops/dash-7/resp")]
    [InlineData("xrf/v1/acme/XRF-0042/cmd_resp", "xrf/v1/acme/XRF-0042/cmd_resp")]
    [InlineData("xrf/v1/other/_ops/dash/resp", "xrf/v1/acme/XRF-0042/cmd_resp")] // another fleet's namespace
    [InlineData("xrf/v1/acme/_ops/", "xrf/v1/acme/XRF-0042/cmd_resp")]
    public async Task Ping_ReplyTo_AnsweredOnlyInTheOpsNamespaceOrCmdResp(string replyTo, string expectedTopic)
    {
        var transport = new MemoryTransport();
        var processor = Processor(transport, new RecordingHandler());
        await processor.HandleAsync(Command("ping", $$"""{"command_id":"rt-3","reply_to":"{{replyTo}}"}"""), CancellationToken.None);
        Assert.All(transport.Published, m => Assert.Equal(expectedTopic, m.Topic));
        Assert.NotEmpty(transport.Published);
    }

    [Theory]
    [InlineData("xrf/v1/acme/_ops/+/")]
    [InlineData("#")]
    [InlineData("xrf/v1/acme/")] // covers every device tree of the fleet
    [InlineData("xrf/v1/acme/_ops")] // would also admit xrf/v1/acme/_ops-x/…
    [InlineData("$share/")]
    public void Processor_ResponseTopicPrefixOutsideTheRules_RefusedAtConstruction(string prefix)
    {
        var error = Assert.Throws<ArgumentException>(() => Processor(new MemoryTransport(), new RecordingHandler(), new CommandOptions { ResponseTopicPrefix = prefix }));
        Assert.StartsWith($"Response topic prefix '{prefix}' ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_ConfiguredResponseTopicPrefix_AnsweredUnderItAndNoLongerInTheDefaultNamespace()
    {
        var transport = new MemoryTransport();
        var processor = Processor(transport, new RecordingHandler(), new CommandOptions { ResponseTopicPrefix = "acme/replies/" });
        await processor.HandleAsync(Command("ping", """{"command_id":"pf-1"}""", "acme/replies/dash"), CancellationToken.None);
        await processor.HandleAsync(Command("ping", """{"command_id":"pf-2"}""", "xrf/v1/acme/_ops/dash"), CancellationToken.None);
        Assert.Equal(["acme/replies/dash", Topics.DefaultResponse], transport.Published.Select(m => m.Topic).Distinct());
    }

    [Fact]
    public async Task Command_PayloadOverLimit_RejectedUnread()
    {
        // 8 KiB: CommandOptions.MaxPayloadBytes.
        var transport = new MemoryTransport();
        var processor = Processor(transport, new RecordingHandler());
        var padding = new string(' ', 8 * 1024);
        await processor.HandleAsync(Command("ping", $$"""{"command_id":"pad-1"{{padding}}}"""), CancellationToken.None);
        var reply = Assert.Single(transport.Published);
        Assert.True(reply.Payload.Span.IndexOf("\"rejected\""u8) >= 0);
        Assert.Equal(Topics.DefaultResponse, reply.Topic);
    }

    [Fact]
    public async Task Start_SampleIdLongerThan128_RejectedInvalid()
    {
        // 128: CommandProcessor.MaxFieldLength, the same limit as command_id.
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        var sample = new string('S', 129);
        await processor.HandleAsync(Command("start", $$"""{"command_id":"long-1","ts":"{{Now()}}","sample_id":"{{sample}}"}"""), CancellationToken.None);
        Assert.Equal(0, handler.Count("start"));
    }

    [Fact]
    public async Task StartThenStop_StartsReplyIsSlow_XrayIsNotLeftOnAfterTheStop()
    {
        // Commands run concurrently (RouteAsync: one Task.Run each) and each calls the instrument only after the PUBACK of
        // its "accepted" reply, so a stop sent after a start can reach the instrument first; the start then begins
        // exposure after the stop (MeasurementControl.RequestStop only clears a start already pending).
        using var directory = new TempDirectory();
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(directory.Path, "outbox.db") });
        var transport = new MemoryTransport
        {
            Hold = m => m.Payload.Span.IndexOf("\"command\":\"start\""u8) >= 0 && m.Payload.Span.IndexOf("\"accepted\""u8) >= 0,
        };
        var handler = new RecordingHandler();
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, new CommandOptions { RemoteControlEnabled = true }, handler);
        await publisher.StartAsync(CancellationToken.None);
        await transport.Inbound.Writer.WriteAsync(Command("start", $$"""{"command_id":"o-1","ts":"{{Now()}}"}""")); // ts: required for start (C4)
        await transport.Inbound.Writer.WriteAsync(Command("stop", """{"command_id":"o-2"}"""));
        await EventuallyAsync(() => handler.Count("stop") == 1 || handler.Count("start") == 1);
        await Task.Delay(200);
        transport.Release(); // the broker acknowledges the start's "accepted" reply
        await EventuallyAsync(() => handler.Calls.Count == 2);
        Assert.Equal(["start", "stop"], handler.Calls.Select(c => c.Call));
    }

    [Fact]
    public async Task Start_DuplicateJsonKeys_RejectedAsAmbiguous()
    {
        // System.Text.Json accepts duplicate members; a gateway/ACL plugin that reads the first one and the device
        // (which reads the last one) then disagree on command_id / preset_s.
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        await processor.HandleAsync(Command("start", """{"command_id":"a","preset_s":1,"preset_s":3600,"command_id":"b"}"""), CancellationToken.None);
        Assert.Equal(0, handler.Count("start"));
    }

    [Fact]
    public async Task Command_InvalidUtf8InAString_AnsweredWithMalformedJson()
    {
        var transport = new MemoryTransport();
        var handler = new RecordingHandler();
        var processor = Processor(transport, handler);
        byte[] payload = [.. "{\"command_id\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        var error = await Record.ExceptionAsync(() => processor.HandleAsync(Command("ping", payload), CancellationToken.None));
        Assert.Null(error);
        Assert.Contains(transport.Published, m => m.Payload.Span.IndexOf("\"rejected\""u8) >= 0);
    }

    // ---- 2. Where replies go -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("xrf/v1/acme/XRF-0042/detections")]    // own result stream: an ACL "own tree only" cannot stop it
    [InlineData("xrf/v1/acme/XRF-0042/status")]
    [InlineData("xrf/v1/acme/XRF-0099/detections")]    // another device's tree
    [InlineData("$SYS/broker/clients/connected")]
    public async Task Ping_ReplyToOutsideAResponseNamespace_NotPublishedThere(string replyTo)
    {
        var transport = new MemoryTransport();
        var processor = Processor(transport, new RecordingHandler());
        await processor.HandleAsync(Command("ping", $$"""{"command_id":"rt-1","reply_to":"{{replyTo}}","correlation_id":"x"}"""), CancellationToken.None);
        Assert.DoesNotContain(transport.Published, m => m.Topic == replyTo);
    }

    [Theory]
    [InlineData("xrf/v1/acme/XRF-0042/detections")]
    [InlineData("$SYS/broker/clients/connected")]
    public async Task Ping_V5ResponseTopicOutsideAResponseNamespace_NotPublishedThere(string responseTopic)
    {
        // The v5 Response Topic is used without any check at all (reply_to at least gets a wildcard check).
        var transport = new MemoryTransport();
        var processor = Processor(transport, new RecordingHandler());
        await processor.HandleAsync(Command("ping", """{"command_id":"rt-2"}""", responseTopic), CancellationToken.None);
        Assert.DoesNotContain(transport.Published, m => m.Topic == responseTopic);
    }

    // ---- 3. Resource exhaustion ------------------------------------------------------------------------------------

    [Fact]
    public async Task Ping_HugeCorrelationId_NotEchoed()
    {
        // correlation_id (and sample_id) have no size limit: 1 MiB in, 2 MiB out (accepted + completed for start).
        var transport = new MemoryTransport();
        var processor = Processor(transport, new RecordingHandler());
        var big = new string('A', 1 << 20);
        await processor.HandleAsync(Command("ping", $$"""{"command_id":"big-1","correlation_id":"{{big}}"}"""), CancellationToken.None);
        var bytesOut = transport.Published.Sum(m => m.Payload.Length);
        Assert.True(bytesOut < 64 * 1024, $"device published {bytesOut:N0} bytes of replies for one ping");
    }

    [Fact]
    public async Task CommandFlood_UnacknowledgedReplies_ConcurrentHandlingIsBounded()
    {
        // RouteAsync starts one task per command and keeps every running one; each waits up to MaxAge (60 s) for its
        // reply's PUBACK. A flood while PUBACKs are slow (backlog drain, congested broker) grows without limit.
        using var directory = new TempDirectory();
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(directory.Path, "outbox.db") });
        var transport = new MemoryTransport { Hold = m => m.Topic.EndsWith("/cmd_resp", StringComparison.Ordinal) };
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) }, new CommandOptions(), new RecordingHandler());
        await publisher.StartAsync(CancellationToken.None);
        for (var i = 0; i < 5000; i++)
        {
            await transport.Inbound.Writer.WriteAsync(Command("ping", $$"""{"command_id":"f-{{i}}"}"""));
        }

        await EventuallyAsync(() => transport.MaxOutstanding >= 5000 || transport.Inbound.Reader.Count == 0);
        await Task.Delay(500);
        var outstanding = transport.MaxOutstanding;
        transport.Release();
        Assert.True(outstanding <= 256, $"{outstanding} commands were being handled at once");
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xrfedge-review-" + Guid.NewGuid().ToString("N")[..12]);

        public TempDirectory() => Directory.CreateDirectory(Path);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

using System.Text.Json;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// A stop while the broker is frozen (SIGSTOP: its kernel keeps the TCP connection and accepts bytes until the buffers
/// are full, nothing is answered) and the send buffer is full, so libmosquitto cannot write the DISCONNECT. Until
/// 2026-11-24 the network thread then ended only when the keep-alive ran out (30.0 s measured with the default 30 s;
/// docs/mqtt.md "Stop against a frozen broker"); since then the transport shuts the socket down after
/// <see cref="MqttTransportOptions.DisconnectTimeout"/>. Every test resumes the broker (SIGCONT) whatever happens.
/// </summary>
public sealed class FrozenBrokerStopTests : IDisposable
{
    private const int DisconnectNotWrittenEvent = 7072; // Log.DisconnectNotWritten
    private const int NetworkThreadOutlivedDisconnectEvent = 7073; // Log.NetworkThreadOutlivedDisconnect

    // The keep-alive is well beyond the failure deadline, so only the transport's own bound can end the stop in time.
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan FailureDeadline = TimeSpan.FromSeconds(60);

    // Loopback TCP buffers hold a few MiB at most (net.ipv4.tcp_wmem max 4 MiB, tcp_rmem max 6 MiB by default): 16 MiB of
    // QoS 0 payload, which the in-flight window does not hold back, fills both and leaves the DISCONNECT queued behind.
    private const int FillMessages = 64;
    private const int FillBytes = 256 * 1024;

    private static readonly TopicTree Topics = new("acme", "XRF-FROZEN");

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-frozen-" + Guid.NewGuid().ToString("N")[..12]);

    public FrozenBrokerStopTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static MqttTransportOptions Options(MosquittoBroker broker, string clientId)
    {
        var options = Program.DeviceTransport(broker.Port, clientId, Topics);
        options.KeepAlive = KeepAlive;
        options.AckTimeout = KeepAlive; // no frozen-broker restart by the supervisor during the test
        return options;
    }

    private static void FillSendBuffer(MosquittoTransport transport)
    {
        for (var i = 0; i < FillMessages; i++)
        {
            _ = transport.PublishAsync(new MqttOutboundMessage { Topic = "fill", Payload = new byte[FillBytes], Qos = 0 }, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Stop_BrokerFrozenAndSendBufferFull_SocketShutAfterTheDisconnectTimeoutAndUnansweredPublishesFailed()
    {
        using var broker = MosquittoBroker.Started();
        await AssertFrozenStopShutsTheSocketAsync(broker, Options(broker, "frozen-stop"));
    }

    /// <summary>
    /// A broker frozen (SIGSTOP) with a QoS 1 publish unanswered and the send buffer full, then a stop: it ends through the
    /// socket's shutdown (7072, naming the client) and fails the publish. The IPv6 and TLS tests run it on other kinds of
    /// socket: the address pair the transport checks before its shutdown differs in size and layout (a 28-byte
    /// <c>sockaddr_in6</c> over IPv6), and under TLS the network thread reads through OpenSSL, whose write of the
    /// DISCONNECT record is the one stuck behind the full buffer.
    /// </summary>
    private static async Task AssertFrozenStopShutsTheSocketAsync(MosquittoBroker broker, MqttTransportOptions options)
    {
        var log = new MemoryLoggerFactory();
        await using var transport = new MosquittoTransport(options, new Microsoft.Extensions.Logging.Logger<MosquittoTransport>(log));
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(FailureDeadline).Token);
        broker.Signal("STOP");
        try
        {
            var unanswered = transport.PublishAsync(new MqttOutboundMessage { Topic = "q1", Payload = "x"u8.ToArray(), Qos = 1 }, CancellationToken.None);
            FillSendBuffer(transport);

            using var deadline = new CancellationTokenSource(FailureDeadline);
            await transport.StopAsync(deadline.Token);

            Assert.Equal(MqttConnectionState.Stopped, transport.State);
            var entry = Assert.Single(log.WithEvent(DisconnectNotWrittenEvent));
            Assert.Contains($"MQTT {options.ClientId}:", entry.Message, StringComparison.Ordinal);
            Assert.Contains("socket shut down", entry.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<MqttException>(() => unanswered);
        }
        finally
        {
            broker.Signal("CONT");
        }
    }

    [Fact]
    public async Task Stop_BrokerFrozenOverIpv6_SocketShutAfterTheDisconnectTimeout()
    {
        // A second listener on ::1 (the fixture's own is on 127.0.0.1); the stop must find the IPv6 socket as its own.
        var port = MosquittoBroker.FreePort();
        using var broker = MosquittoBroker.Started(extraConfig: $"listener {port} ::1\nallow_anonymous true");
        var options = Options(broker, "frozen-ipv6");
        options.Host = "::1";
        options.Port = port;
        await AssertFrozenStopShutsTheSocketAsync(broker, options);
    }

    [Fact]
    public async Task Stop_BrokerFrozenOverTls_SocketShutAfterTheDisconnectTimeout()
    {
        TestCertificates.MakeCaAndServer(_directory, "DNS:localhost");
        TestCertificates.MakeClient(_directory, "client", "XRF-FROZEN");
        using var broker = MosquittoBroker.Started(listenerConfig: string.Join('\n',
            "allow_anonymous true",
            $"cafile {Path.Combine(_directory, "ca.crt")}",
            $"certfile {Path.Combine(_directory, "server.crt")}",
            $"keyfile {Path.Combine(_directory, "server.key")}",
            "require_certificate true"));
        var options = Options(broker, "frozen-tls");
        options.Host = "localhost";
        options.Tls = new MqttTlsOptions
        {
            CaFile = Path.Combine(_directory, "ca.crt"),
            CertFile = Path.Combine(_directory, "client.crt"),
            KeyFile = Path.Combine(_directory, "client.key"),
        };
        await AssertFrozenStopShutsTheSocketAsync(broker, options);
    }

    /// <summary>
    /// A transport whose network thread, after its connection was cut, is held in its own reconnect's blocking connect
    /// (<see cref="BacklogGate"/>: the SYN is dropped) when the stop begins; <paramref name="afterDisconnect"/> then
    /// decides how that connect ends. Returns the stop, not awaited.
    /// </summary>
    private static async Task<(MosquittoTransport Transport, Task Stop)> StopDuringReconnectAsync(BacklogGate gate, string clientId, Action afterDisconnect, CancellationToken deadline, MemoryLoggerFactory? log = null)
    {
        var options = Program.DeviceTransport(gate.Port, clientId, Topics);
        options.KeepAlive = KeepAlive;
        options.AckTimeout = KeepAlive;
        var transport = new MosquittoTransport(options, log is null ? null : new Microsoft.Extensions.Logging.Logger<MosquittoTransport>(log));
        var accepted = gate.AcceptOneAsync();
        transport.Start();
        await accepted;
        await transport.WaitConnectedAsync(new CancellationTokenSource(FailureDeadline).Token);

        await gate.FillAsync();
        gate.CutPiped();
        await Waiting.UntilAsync(gate.ConnectHeld, "libmosquitto's reconnect held in its connect (SYN-SENT)");

        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.AfterDisconnectForTest = () => disconnected.TrySetResult();
        var stop = transport.StopAsync(deadline);
        await disconnected.Task.WaitAsync(FailureDeadline, CancellationToken.None);
        afterDisconnect();
        return (transport, stop);
    }

    [Fact]
    public async Task Stop_WhileTheNetworkThreadReconnects_ConnectAcceptedAfterTheDisconnect_TheStopCompletes()
    {
        // The held connect completes after the stop's DISCONNECT was queued on its socket (libmosquitto assigns the socket
        // before connect(2)): the DISCONNECT goes out before the CONNECT and ends the thread. Pinned; passes on the code
        // before the fix below.
        using var broker = MosquittoBroker.Started();
        using var gate = new BacklogGate(broker.Port);
        using var deadline = new CancellationTokenSource(FailureDeadline);
        var (transport, stop) = await StopDuringReconnectAsync(gate, "reconnect-accepted", gate.Release, deadline.Token);

        // On a failure the transport is left undisposed: its dispose would wait for the same join.
        await stop;
        Assert.Equal(MqttConnectionState.Stopped, transport.State);
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task Stop_WhileTheNetworkThreadReconnects_ConnectRefusedAfterTheDisconnect_TheStopCompletes()
    {
        // The held connect fails after the stop's DISCONNECT was queued (refused here; a dead link's ends the same way after
        // its SYN retries, about 127 s): mosquitto__reconnect (lib/connect.c) then sets the state "connect pending" over the
        // "disconnected" of the stop, drops the queued DISCONNECT at its next attempt, and libmosquitto's thread retried
        // for ever; the stop's join never returned. Since 2026-11-24 (second review) the stop tells the thread again.
        using var broker = MosquittoBroker.Started();
        using var gate = new BacklogGate(broker.Port);
        using var deadline = new CancellationTokenSource(FailureDeadline);
        var log = new MemoryLoggerFactory();
        var (transport, stop) = await StopDuringReconnectAsync(gate, "reconnect-refused", gate.Dispose, deadline.Token, log);

        // On a failure the transport is left undisposed: its dispose would wait for the same join.
        await stop;
        Assert.Equal(MqttConnectionState.Stopped, transport.State);
        Assert.Contains("MQTT reconnect-refused:", Assert.Single(log.WithEvent(NetworkThreadOutlivedDisconnectEvent)).Message, StringComparison.Ordinal);
        await transport.DisposeAsync();
    }

    [Fact]
    public async Task Stop_BrokerFrozenAndSendBufferFull_RestartedTransportConnectsAgainAfterTheBrokerResumes()
    {
        // The shut-down socket is the stopped connection's only: the same transport starts again and connects.
        using var broker = MosquittoBroker.Started();
        await using var transport = new MosquittoTransport(Options(broker, "frozen-restart"));
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(FailureDeadline).Token);
        broker.Signal("STOP");
        try
        {
            FillSendBuffer(transport);
            await transport.StopAsync(new CancellationTokenSource(FailureDeadline).Token);
        }
        finally
        {
            broker.Signal("CONT");
        }

        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(FailureDeadline).Token);
        var outcome = await transport.PublishAsync(new MqttOutboundMessage { Topic = "after", Payload = "x"u8.ToArray(), Qos = 1 }, new CancellationTokenSource(FailureDeadline).Token);
        Assert.True(outcome.ReasonCode < 0x80, $"PUBACK {outcome.ReasonCode}: {outcome.Description}"); // 0x10 = no subscribers, a success (MQTT 5.0 §3.4.2.1)
    }

    [Fact]
    public async Task DetectionPublisher_StopWhileTheBrokerIsFrozen_UnacknowledgedRowsStayAndAreDeliveredAfterTheBrokerResumes()
    {
        const int Detections = 3;
        using var broker = MosquittoBroker.Started();
        var database = Path.Combine(_directory, "outbox.db");
        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = database }))
        {
            await using var transport = new MosquittoTransport(Options(broker, "frozen-publisher"));
            await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) });
            await publisher.StartAsync(CancellationToken.None);
            await transport.WaitConnectedAsync(new CancellationTokenSource(FailureDeadline).Token);
            broker.Signal("STOP");
            try
            {
                for (var i = 0; i < Detections; i++)
                {
                    publisher.Enqueue(TestData.Measurement($"F-{i}", i));
                }

                await Waiting.UntilAsync(() => publisher.InFlight == Detections, "the detections handed to the frozen broker's connection");
                FillSendBuffer(transport);

                using var deadline = new CancellationTokenSource(FailureDeadline);
                await publisher.StopAsync(deadline.Token);

                Assert.Equal(Detections, outbox.GetStatistics().Depth);
            }
            finally
            {
                broker.Signal("CONT");
            }
        }

        // The next start (a restart of the service) sends every one of them. A subscriber connected through the freeze
        // would have lost its connection to its own keep-alive, so a new one listens.
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, Topics.Detections);
        using (var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = database }))
        {
            await using var transport = new MosquittoTransport(Options(broker, "frozen-publisher"));
            await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) });
            await publisher.StartAsync(CancellationToken.None);
            await subscriber.WaitUntilAsync(
                () => Enumerable.Range(0, Detections).All(i => subscriber.Received.Any(m => JsonDocument.Parse(m.Payload).RootElement.GetProperty("measurement_id").GetString() == $"F-{i}")),
                timeoutSeconds: FailureDeadline.TotalSeconds);
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "the outbox emptied after the broker resumed");
        }
    }
}

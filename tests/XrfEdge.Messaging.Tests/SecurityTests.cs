using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

public sealed class SecurityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-sec-" + Guid.NewGuid().ToString("N")[..12]);

    public SecurityTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string file) => Path.Combine(_directory, file);

    /// <summary>A throw-away CA, a server certificate valid only for DNS:localhost, and a client certificate.</summary>
    private void MakeCertificates()
    {
        TestCertificates.MakeCaAndServer(_directory, "DNS:localhost");
        TestCertificates.MakeClient(_directory, "client", "XRF-0042");
    }

    /// <summary>Password of the encrypted client key; made up for the test.</summary>
    private const string KeyPassword = "key-pass-7731";

    /// <summary>A second client certificate whose key is encrypted (PKCS#8, AES-256-CBC) with <see cref="KeyPassword"/>.</summary>
    private void MakeEncryptedClientKey() => TestCertificates.MakeClient(_directory, "client-enc", "XRF-0043", KeyPassword);

    /// <summary>Starts the transport and returns the first Disconnected report that names a cause, failing if it ever connects.</summary>
    private static async Task<MqttStateChangedEventArgs> RefusalAsync(MosquittoTransport transport, Func<string, bool> expected)
    {
        var connected = false;
        var reported = new TaskCompletionSource<MqttStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new ConcurrentQueue<string>();
        transport.StateChanged += (_, e) =>
        {
            connected |= e.State == MqttConnectionState.Connected;
            seen.Enqueue($"{e.State} {e.Code}: {e.Description}");
            if (e.State == MqttConnectionState.Disconnected && expected(e.Description))
            {
                reported.TrySetResult(e);
            }
        };
        transport.Start();
        try
        {
            // Bounds a hang only; the reports come within a second or two of each attempt.
            var down = await reported.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.False(connected);
            return down;
        }
        catch (TimeoutException)
        {
            Assert.Fail("no expected refusal; states seen:\n" + string.Join('\n', seen));
            throw;
        }
    }

    private MosquittoBroker TlsBroker() => MosquittoBroker.Started(listenerConfig: string.Join('\n',
        "allow_anonymous true",
        $"cafile {PathOf("ca.crt")}",
        $"certfile {PathOf("server.crt")}",
        $"keyfile {PathOf("server.key")}",
        "require_certificate true"));

    private MqttTransportOptions TlsOptions(MosquittoBroker broker, string host, bool clientCertificate = true) => new()
    {
        Host = host,
        Port = broker.Port,
        ClientId = "tls-" + Guid.NewGuid().ToString("N")[..6],
        KeepAlive = TimeSpan.FromSeconds(5),
        ReconnectDelayMax = TimeSpan.FromSeconds(1),
        Tls = new MqttTlsOptions
        {
            CaFile = PathOf("ca.crt"),
            CertFile = clientCertificate ? PathOf("client.crt") : null,
            KeyFile = clientCertificate ? PathOf("client.key") : null,
        },
    };

    private static async Task<MqttStateChangedEventArgs> FirstStateAsync(MosquittoTransport transport, MqttConnectionState state)
    {
        var seen = new TaskCompletionSource<MqttStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.StateChanged += (_, e) =>
        {
            if (e.State == state)
            {
                seen.TrySetResult(e);
            }
        };
        transport.Start();
        return await seen.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Tls_MutualCertificatesAndMatchingHostName_ConnectsAndPublishes()
    {
        MakeCertificates();
        using var broker = TlsBroker();
        await using var transport = new MosquittoTransport(TlsOptions(broker, "localhost"));
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        var outcome = await transport.PublishAsync(new MqttOutboundMessage { Topic = "t/tls", Payload = "x"u8.ToArray() }, CancellationToken.None);
        Assert.True(outcome.Accepted);
    }

    [Fact]
    public async Task Tls_RestartedWhileTheCaFileIsAway_ReportedNamingItAndRetriedUntilItIsBack()
    {
        // A start after a stop sets the TLS files again on a fresh libmosquitto state (mosquitto_reinitialise, since
        // 2026-11-24), and mosquitto_tls_set opens the CA file at once. A file briefly away (a certificate rotation moving
        // the new one into place) made Start throw and left the transport saying "connecting", with no supervisor to try
        // again, for good. Before the reset existed the file was read at the connect, whose failure the supervisor
        // retries after its back-off (P1); a failed reset must be retried the same way.
        MakeCertificates();
        using var broker = TlsBroker();
        await using var transport = new MosquittoTransport(TlsOptions(broker, "localhost"));
        transport.Start();
        await transport.WaitConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        await transport.StopAsync(CancellationToken.None);

        File.Move(PathOf("ca.crt"), PathOf("ca.crt.rotating"));
        var down = new TaskCompletionSource<MqttStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.StateChanged += (_, e) =>
        {
            if (e.State == MqttConnectionState.Disconnected)
            {
                down.TrySetResult(e);
            }
        };
        var whileStopped = transport.PublishAsync(new MqttOutboundMessage { Topic = "t/tls", Payload = "old"u8.ToArray(), Qos = 1 }, CancellationToken.None);
        transport.Start();
        var report = await down.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains($"'{PathOf("ca.crt")}'", report.Description, StringComparison.Ordinal);

        // The reset dropped it with the rest of the old state, set-up failure or not: it fails, never waits for ever.
        await Assert.ThrowsAsync<MqttException>(() => whileStopped.WaitAsync(TimeSpan.FromSeconds(30)));

        File.Move(PathOf("ca.crt.rotating"), PathOf("ca.crt"));
        await transport.WaitConnectedAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var outcome = await transport.PublishAsync(new MqttOutboundMessage { Topic = "t/tls", Payload = "x"u8.ToArray(), Qos = 1 }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(outcome.Accepted);
    }

    [Fact]
    public async Task Tls_HostNameNotInCertificate_RefusedByVerification()
    {
        // The server certificate names only DNS:localhost; connecting by address must fail verification.
        MakeCertificates();
        using var broker = TlsBroker();
        await using var transport = new MosquittoTransport(TlsOptions(broker, "127.0.0.1"));
        var states = new ConcurrentQueue<MqttStateChangedEventArgs>();
        var reported = new TaskCompletionSource<MqttStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.StateChanged += (_, e) =>
        {
            states.Enqueue(e);
            if (e.State == MqttConnectionState.Disconnected && e.Description.Contains("certificate verify failed", StringComparison.Ordinal))
            {
                reported.TrySetResult(e);
            }
        };
        transport.Start();

        // A TLS failure ends libmosquitto's network thread without a disconnect callback (reference P2); the supervisor
        // notices the library's error line on its next tick and reports it in OpenSSL's own words. (The 60 s only bound
        // a hang; the watchdog alone would report after 2 × cap + 2 × keep-alive = 12 s.)
        var down = await reported.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(MqttConnectionState.Disconnected, down.State);
        Assert.DoesNotContain(states, s => s.State == MqttConnectionState.Connected);
    }

    [Fact]
    public async Task Tls_HandshakeFails_ReportedFromTheLibraryErrorAndRetriedWithBackOffBeforeTheWatchdog()
    {
        // With the cap at 1 s and keep-alive 60 s the watchdog path would first restart after 2 × 1 + 2 × 60 = 122 s,
        // so two restarts within the wait below can only come from the fast path (a library error since the last connect).
        MakeCertificates();
        using var broker = TlsBroker();
        var options = TlsOptions(broker, "127.0.0.1");
        options.KeepAlive = TimeSpan.FromSeconds(60);
        var events = new EventCountingLogger<MosquittoTransport>(7008);
        await using var transport = new MosquittoTransport(options, events);
        var first = new TaskCompletionSource<MqttStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connected = false;
        transport.StateChanged += (_, e) =>
        {
            connected |= e.State == MqttConnectionState.Connected;
            if (e.State == MqttConnectionState.Disconnected)
            {
                first.TrySetResult(e);
            }
        };
        transport.Start();
        var down = await first.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("certificate verify failed", down.Description, StringComparison.Ordinal);

        // Event 7008 is logged once per thread found ended; the second one proves a restart happened and failed again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (events.Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(events.Count >= 2, $"expected two ended-thread warnings (event 7008) before the 122-s watchdog, saw {events.Count}");
        Assert.False(connected);
    }

    [Fact]
    public async Task Tls_SupervisorRestartsWhileHandshakesFail_ProcessDoesNotCrash()
    {
        // Regression: with the network thread started before connect_async, the thread's own reconnect and ours ran on
        // one SSL object and the process died of SIGSEGV in libssl (8 of 8 such soaks, within 12–25 s). The soak runs in
        // a child process so that a crash fails this test instead of ending the test host.
        MakeCertificates();
        using var broker = TlsBroker();
        using var child = new ChildProcess("tls-soak", "127.0.0.1", broker.Port.ToString(CultureInfo.InvariantCulture), _directory, "16", "26");
        var exit = await child.WaitForExitAsync(120);
        Assert.True(exit == 0, $"tls-soak exited with code {exit} (139 = SIGSEGV); output:\n{child.Output}");
        var summary = Regex.Match(child.Output, @"SOAKED 16 transports, (\d+) restarts");
        Assert.True(summary.Success, child.Output);

        // Each transport's handshake fails; its supervisor sees the library's error on the next 1-s tick and restarts the
        // thread after a 1-s back-off (the cap), so every transport goes round several times in 26 s. The 12-s watchdog
        // alone could give at most 2 restarts each (32); a restart needs two ticks, so at most 13 each (208).
        Assert.InRange(int.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture), 48, 208);
    }

    [Fact]
    public async Task Tls_BrokerRequiresClientCertificateAndNoneConfigured_RefusedWithOpenSslReason()
    {
        // The same broker and host name as the mutual-TLS test above, which connects: only the client certificate is missing.
        MakeCertificates();
        using var broker = TlsBroker();
        await using var transport = new MosquittoTransport(TlsOptions(broker, "localhost", clientCertificate: false));

        // TLS 1.3: the server checks the client's certificate after the client's handshake ends, so the refusal reaches
        // the client as the alert "certificate required" (RFC 8446 §6.2, alert 116) in OpenSSL's words.
        var down = await RefusalAsync(transport, d => d.Contains("certificate required", StringComparison.Ordinal));
        Assert.Contains("OpenSSL", down.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_EncryptedClientKeyWithItsPassword_ConnectsAndPublishes()
    {
        MakeCertificates();
        MakeEncryptedClientKey();
        using var broker = TlsBroker();
        var options = TlsOptions(broker, "localhost");
        options.Tls!.CertFile = PathOf("client-enc.crt");
        options.Tls.KeyFile = PathOf("client-enc.key");
        options.Tls.KeyPassword = KeyPassword;
        await using var transport = new MosquittoTransport(options);
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        var outcome = await transport.PublishAsync(new MqttOutboundMessage { Topic = "t/tls-enc", Payload = "x"u8.ToArray() }, CancellationToken.None);
        Assert.True(outcome.Accepted);
    }

    [Theory]
    [InlineData("wrong-password")]
    [InlineData(null)] // no password: OpenSSL must not be left to ask on a terminal (the test would block on one)
    public async Task Tls_EncryptedClientKeyWithoutItsPassword_NotConnectedAndTheLibrarySaysTheKeyDidNotLoad(string? password)
    {
        MakeCertificates();
        MakeEncryptedClientKey();
        using var broker = TlsBroker();
        var options = TlsOptions(broker, "localhost");
        options.Tls!.CertFile = PathOf("client-enc.crt");
        options.Tls.KeyFile = PathOf("client-enc.key");
        options.Tls.KeyPassword = password;
        await using var transport = new MosquittoTransport(options);

        // libmosquitto's own sentence (lib/net_mosq.c), then OpenSSL's first error, not its last and vaguest ("PEM lib").
        var down = await RefusalAsync(transport, d => d.Contains("Unable to load client key file", StringComparison.Ordinal));
        Assert.Contains(PathOf("client-enc.key"), down.Description, StringComparison.Ordinal);
        Assert.Contains("OpenSSL Error[0]", down.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("PEM lib", down.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorCause_LibrarySentenceThenOpenSslQueue_KeepsTheSentenceAndOpenSslsFirstError()
    {
        // The lines libmosquitto logs at MOSQ_LOG_ERR for a key that does not decrypt (lib/net_mosq.c: its sentence, then
        // net__print_ssl_error's queue, oldest first); the error texts are OpenSSL 3's.
        string? cause = null;
        var previousWasError = false;
        foreach (var line in new[]
        {
            "Error: Unable to load client key file \"/k.key\".",
            "OpenSSL Error[0]: error:1C800064:Provider routines::bad decrypt",
            "OpenSSL Error[1]: error:11800074:PKCS12 routines::pkcs12 cipherfinal error",
            "OpenSSL Error[4]: error:0A080009:SSL routines::PEM lib",
        })
        {
            cause = MosquittoTransport.ErrorCause(cause, previousWasError, line);
            previousWasError = true;
        }

        Assert.Equal("Error: Unable to load client key file \"/k.key\". OpenSSL Error[0]: error:1C800064:Provider routines::bad decrypt", cause);

        // A lone OpenSSL line after other log lines (a handshake failure) is the cause by itself, as before.
        Assert.Equal("OpenSSL Error[0]: x", MosquittoTransport.ErrorCause("Error: older", previousLineWasError: false, "OpenSSL Error[0]: x"));
    }

    [Fact]
    public void Tls_ClientCertificateWithoutKey_ClearErrorAtConstruction()
    {
        MakeCertificates();
        var error = Assert.Throws<MqttException>(() => new MosquittoTransport(new MqttTransportOptions
        {
            ClientId = "x",
            Tls = new MqttTlsOptions { CaFile = PathOf("ca.crt"), CertFile = PathOf("client.crt") },
        }));
        Assert.Contains("go together", error.Message, StringComparison.Ordinal);
        Assert.Contains("client.crt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_MissingClientKeyFile_ClearErrorAtConstructionNamingIt()
    {
        MakeCertificates();
        var error = Assert.Throws<MqttException>(() => new MosquittoTransport(new MqttTransportOptions
        {
            ClientId = "x",
            Tls = new MqttTlsOptions { CaFile = PathOf("ca.crt"), CertFile = PathOf("client.crt"), KeyFile = PathOf("missing.key") },
        }));
        Assert.Equal($"MQTT TLS client key '{PathOf("missing.key")}' does not exist.", error.Message);
    }

    [Fact]
    public void Tls_MissingCaFile_ClearErrorAtConstruction()
    {
        var error = Assert.Throws<MqttException>(() => new MosquittoTransport(new MqttTransportOptions { ClientId = "x", Tls = new MqttTlsOptions { CaFile = PathOf("nope.crt") } }));
        Assert.Contains("nope.crt", error.Message, StringComparison.Ordinal);
    }

    private MosquittoBroker AuthBroker()
    {
        TestCertificates.Tool(_directory, "mosquitto_passwd", "-c", "-b", PathOf("passwd"), "device1", "s3cret");
        File.WriteAllText(PathOf("acl"), "user device1\ntopic readwrite xrf/v1/acme/dev1/#\n");
        return MosquittoBroker.Started(listenerConfig: $"allow_anonymous false\npassword_file {PathOf("passwd")}\nacl_file {PathOf("acl")}");
    }

    private static MqttTransportOptions AuthOptions(MosquittoBroker broker, string password) => new()
    {
        Host = "127.0.0.1",
        Port = broker.Port,
        ClientId = "auth-" + Guid.NewGuid().ToString("N")[..6],
        Username = "device1",
        Password = password,
        KeepAlive = TimeSpan.FromSeconds(5),
        ReconnectDelayMax = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public async Task Connect_WrongPassword_RefusedWithBrokerReason()
    {
        using var broker = AuthBroker();
        await using var transport = new MosquittoTransport(AuthOptions(broker, "wrong"));
        var down = await FirstStateAsync(transport, MqttConnectionState.Disconnected);

        // MQTT 5 CONNACK reason 0x86 "Bad User Name or Password" or 0x87 "Not authorized" (MQTT 5.0 §3.2.2.2).
        Assert.Contains(down.Code, new[] { 0x86, 0x87 });
        Assert.Contains("connection refused", down.Description, StringComparison.Ordinal);
        Assert.NotEqual(MqttConnectionState.Connected, transport.State);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.Auto)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task Connect_WrongPasswordKeptRefused_EveryLaterAttemptStillNamesTheRefusal(MqttProtocolVersion protocol)
    {
        // A rotated broker password: every attempt is refused. The first refusal was logged (the state change to
        // Disconnected); after it the state no longer changed, so a 3.1.1 link retrying with back-off logged nothing
        // more, and an MQTT 5 link (libmosquitto ends its thread on a v5 refusal) logged only "network thread
        // restarted after … s" every 2 × ReconnectDelayMax + 2 × KeepAlive. A journal read the next day no longer
        // said why the instrument was offline.
        using var broker = AuthBroker();
        var log = new MemoryLoggerFactory();
        var options = AuthOptions(broker, "wrong");
        options.Protocol = protocol;
        await using var transport = new MosquittoTransport(options, new Microsoft.Extensions.Logging.Logger<MosquittoTransport>(log));
        transport.Start();

        // Bounds a hang only: with ReconnectDelayMax 1 s and KeepAlive 5 s a v5 attempt follows every 12 s.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Naming(log).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(Naming(log).Count >= 2, "log entries naming the refusal:\n" + string.Join('\n', log.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).Select(e => $"{e.EventId} {e.Message}")));
        Assert.NotEqual(MqttConnectionState.Connected, transport.State);

        // Also for health (mqtt.last_refusal): the reason and the CONNACK code, not only libmosquitto's rc of the
        // disconnect that followed (MOSQ_ERR_PROTOCOL 2 after an MQTT 5 refusal).
        Assert.Contains("authori", transport.LastConnectRefusal, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(protocol == MqttProtocolVersion.V311 ? "CONNACK 5" : "0x87", transport.LastConnectRefusal, StringComparison.Ordinal);

        // Warnings and errors that name the broker's refusal: v5 reason 0x87 "Not authorized" (mosquitto answers a bad
        // password so), 3.1.1 return code 5 "not authorised" (MQTT 3.1.1 §3.2.2.3).
        static List<MemoryLogEntry> Naming(MemoryLoggerFactory log) =>
            [.. log.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("authori", StringComparison.OrdinalIgnoreCase))];
    }

    /// <summary>
    /// A broker whose ACL lets clients publish but refuses every subscription: mosquitto's own dynamic-security plugin
    /// (Debian's mosquitto package) with <c>defaultACLAccess.subscribe</c> false and no clients, anonymous access on. Its
    /// SUBACK says 0x87 "Not authorized" (MQTT 5.0 §3.9.3) or 0x80 "Failure" (3.1.1 §3.9.3). The plain acl_file cannot
    /// show this: mosquitto 2.0 grants every subscription and checks read access at delivery.
    /// </summary>
    private MosquittoBroker SubscriptionRefusingBroker()
    {
        var config = PathOf("dynsec.json");
        File.WriteAllText(config, """{"defaultACLAccess":{"publishClientSend":true,"publishClientReceive":true,"subscribe":false,"unsubscribe":true},"clients":[],"groups":[],"roles":[]}""");
        return MosquittoBroker.Started(listenerConfig: string.Join('\n',
            "allow_anonymous true",
            $"plugin {DynamicSecurityPlugin()}",
            $"plugin_opt_config_file {config}"));
    }

    /// <summary>The plugin in the package's multiarch folder (/usr/lib/x86_64-linux-gnu on amd64, aarch64-linux-gnu on a Pi).</summary>
    private static string DynamicSecurityPlugin() =>
        Directory.EnumerateDirectories("/usr/lib").Select(d => Path.Combine(d, "mosquitto_dynamic_security.so")).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("mosquitto_dynamic_security.so (Debian package mosquitto) not found under /usr/lib/*/");

    [Theory]
    [InlineData(MqttProtocolVersion.Auto, "0x87")]
    [InlineData(MqttProtocolVersion.V311, "0x80")]
    public async Task Subscribe_RefusedByBrokersAcl_RefusalLoggedNamingTheFilter(MqttProtocolVersion protocol, string reason)
    {
        // The device's command subscription refused by the broker: until 2026-11-24 nobody read the SUBACK, so remote
        // start/stop never arrived and neither the device's log nor anything else said why.
        using var broker = SubscriptionRefusingBroker();
        var log = new MemoryLoggerFactory();
        var options = Program.ChildTransport(broker.Port, "sub-refused");
        options.Protocol = protocol;
        await using var transport = new MosquittoTransport(options, new Microsoft.Extensions.Logging.Logger<MosquittoTransport>(log));
        transport.Subscribe("xrf/v1/acme/XRF-0042/cmd/+", 1);
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        // Bounds a hang only: the SUBACK follows the CONNACK at once.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Refusals(log).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var refusal = Assert.Single(Refusals(log));
        Assert.Contains("xrf/v1/acme/XRF-0042/cmd/+", refusal.Message, StringComparison.Ordinal);
        Assert.Contains(reason, refusal.Message, StringComparison.Ordinal);

        static List<MemoryLogEntry> Refusals(MemoryLoggerFactory log) =>
            [.. log.Entries.Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("subscri", StringComparison.OrdinalIgnoreCase))];
    }

    [Fact]
    public async Task Publish_OutsideAcl_PubackReason0x87NotAccepted()
    {
        using var broker = AuthBroker();
        await using var transport = new MosquittoTransport(AuthOptions(broker, "s3cret"));
        transport.Start();
        await transport.WaitConnectedAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        var allowed = await transport.PublishAsync(new MqttOutboundMessage { Topic = "xrf/v1/acme/dev1/detections", Payload = "x"u8.ToArray() }, CancellationToken.None);
        var denied = await transport.PublishAsync(new MqttOutboundMessage { Topic = "xrf/v1/other/dev9/detections", Payload = "x"u8.ToArray() }, CancellationToken.None);
        Assert.True(allowed.Accepted);
        Assert.False(denied.Accepted);
        Assert.Equal(0x87, denied.ReasonCode); // Not authorized (MQTT 5.0 §3.4.2.1)
        Assert.Contains("authori", denied.Description, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Publish_BrokerFrozenBySigstop_DetectedReconnectsAndDeliversAfterSigcont()
    {
        using var broker = MosquittoBroker.Started();
        var options = Program.ChildTransport(broker.Port, "frozen");
        options.AckTimeout = TimeSpan.FromSeconds(2);
        await using var transport = new MosquittoTransport(options);
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        transport.StateChanged += (_, e) => { if (e.State == MqttConnectionState.Disconnected) { disconnected.TrySetResult(); } };
        transport.Start();
        await transport.WaitConnectedAsync(CancellationToken.None);

        broker.Signal("STOP");
        var publish = transport.PublishAsync(new MqttOutboundMessage { Topic = "t/frozen", Payload = "x"u8.ToArray() }, CancellationToken.None);
        await disconnected.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.False(publish.IsCompleted);
        broker.Signal("CONT");
        Assert.True((await publish.WaitAsync(TimeSpan.FromSeconds(30))).Accepted);
    }
}

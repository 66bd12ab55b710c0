using System.Diagnostics;
using System.Globalization;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.EndToEnd;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>
/// The <c>Mqtt</c> profile keys of the command limits and of mutual TLS, from a profile file through
/// <see cref="ProfileLoader"/> into the service's MQTT publisher, against a real mosquitto and the real libmosquitto.
/// </summary>
public sealed class MqttProfileTests : IDisposable
{
    private const string Fleet = "default";
    private const string Device = "XRF-T-1";
    private const string Root = $"xrf/v1/{Fleet}/{Device}";

    /// <summary>Password of the encrypted client key; made up for the test.</summary>
    private const string KeyPassword = "profile-key-pass";

    private static readonly Dictionary<string, string?> Environment = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-mqttprofile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string file) => Path.Combine(_folder, file);

    private string Profile(string mqtt)
    {
        File.WriteAllText(PathOf("replay.jsonl"), "{}");
        var path = PathOf("profile.json");
        File.WriteAllText(path, $$"""
            {
              "Acquisition": { "Source": "Replay", "ReplayPath": "replay.jsonl" },
              "Model": { "Path": "{{RepositoryRoot.TestModel}}" },
              "Mqtt": { "Fleet": "{{Fleet}}", "DeviceId": "{{Device}}", "KeepAliveSeconds": 5, {{mqtt}} },
              "Outbox": { "Path": "outbox.db" }
            }
            """);
        return path;
    }

    private static MqttResultPublisher Publisher(ServiceSettings settings) => StandalonePublisher.Create(settings);

    [EndToEndFact]
    public async Task PublishStatus_EveryServiceState_StateIsInTheStatusSchemasEnum()
    {
        // StatusWorker publishes ServiceState lower-cased; "stopping" is the retained status after every clean stop
        // and "starting" the one a slow start shows. Until 2026-11-23 the schema and docs/mqtt.md allowed only
        // idle/measuring/fault/offline, so a schema-validating dashboard rejected both.
        using var schema = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(RepositoryRoot.Combine("docs", "schemas", "status.schema.json")));
        var allowed = schema.RootElement.GetProperty("properties").GetProperty("state").GetProperty("enum").EnumerateArray().Select(e => e.GetString()).ToHashSet();
        using var broker = new MosquittoBroker();
        var settings = ProfileLoader.Load(Profile($"\"Port\": {broker.Port.ToString(CultureInfo.InvariantCulture)}"), [], Environment);
        using var subscriber = new MqttSubscriber(broker.Port, "status-sub", $"{Root}/status");
        await using var publisher = Publisher(settings);
        await publisher.StartAsync(CancellationToken.None);
        Assert.True(await Wait.UntilAsync(() => publisher.IsConnected), "the publisher did not connect");

        foreach (var state in Enum.GetValues<ServiceState>())
        {
            var name = state.ToString().ToLowerInvariant(); // as StatusWorker.ShowAsync writes it
            await publisher.PublishStatusAsync(new ServiceStatus(name, "boot", "1.0.0", null, null, null, "hash", "Single", true, null, null, DateTimeOffset.UtcNow), CancellationToken.None);
            Assert.True(
                subscriber.WaitUntil(m => m.Any(x => x.Payload.Contains($"\"state\":\"{name}\"", StringComparison.Ordinal)), TimeSpan.FromSeconds(20)),
                $"status '{name}' did not arrive");
            Assert.Contains(name, allowed);
        }
    }

    [EndToEndFact]
    public async Task StoreEventScanPointsAndSummary_FromRealBroker_MatchTheirSchemas()
    {
        // events, scans/points and scans/summary had no schema in docs/schemas until 2026-11-23.
        using var broker = new MosquittoBroker();
        var settings = ProfileLoader.Load(Profile($"\"Port\": {broker.Port.ToString(CultureInfo.InvariantCulture)}"), [], Environment);
        using var subscriber = new MqttSubscriber(broker.Port, "scan-sub", $"{Root}/events", $"{Root}/scans/#");
        await using var publisher = Publisher(settings);
        await publisher.StartAsync(CancellationToken.None);
        Assert.True(await Wait.UntilAsync(() => publisher.IsConnected), "the publisher did not connect");

        var start = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
        await publisher.StoreAsync(new MeasurementResult("M-1", MeasurementMode.Triggered, start, start.AddSeconds(3), null, null, MeasurementOutcome.Aborted, "stop command"), CancellationToken.None);
        var identification = new XrfEdge.Spectra.Identification.Identification
        {
            SpectrumId = "S-0",
            Elements = [new XrfEdge.Spectra.Identification.ElementDetection("Fe", 26, 0.9994f, ["Fe-KL3"])],
            Lines = [],
            LineProbabilities = [],
            Model = new XrfEdge.Spectra.Identification.ModelIdentity("m", "1", "ab", "int8"),
        };
        var spectrum = new XrfEdge.Spectra.RawSpectrum { Id = "S-0", Counts = [5, 7, 9], Calibration = new XrfEdge.Spectra.Calibration.EnergyCalibration(0, 0.01) };
        await publisher.StoreAsync(new MeasurementResult("S-0", MeasurementMode.Scan, start, start.AddSeconds(1), spectrum, identification, MeasurementOutcome.Completed, ScanId: "SC-1", ScanIndex: 0), CancellationToken.None);
        await publisher.StoreAsync(new MeasurementResult("S-1", MeasurementMode.Scan, start, start.AddSeconds(2), null, null, MeasurementOutcome.Failed, "MCA timeout", ScanId: "SC-1", ScanIndex: 1), CancellationToken.None);
        await publisher.StoreScanSummaryAsync(new ScanSummary("SC-1", start, start.AddSeconds(2), 2, 1, false, new Dictionary<string, long> { ["Fe"] = 1 }), CancellationToken.None);

        Assert.True(subscriber.WaitUntil(m => m.Count >= 3, TimeSpan.FromSeconds(20)), "events, points and summary did not all arrive");
        foreach (var (topic, schema) in new[] { ($"{Root}/events", "measurement-event.schema.json"), ($"{Root}/scans/points", "scan-points.schema.json"), ($"{Root}/scans/summary", "scan-summary.schema.json") })
        {
            var payload = subscriber.Messages.Single(m => m.Topic == topic).Payload;
            var errors = XrfEdge.Messaging.Tests.Support.MiniJsonSchema.Validate(schema, System.Text.Encoding.UTF8.GetBytes(payload));
            Assert.True(errors.Count == 0, $"{topic}: {string.Join("; ", errors)} in {payload}");
        }
    }

    [EndToEndFact]
    public async Task ProfileCommandLimits_LoadedIntoThePublisher_PayloadCapAndReplyPrefixApplyOnTheBroker()
    {
        using var broker = new MosquittoBroker();
        var settings = ProfileLoader.Load(
            Profile($$"""
                "Port": {{broker.Port.ToString(CultureInfo.InvariantCulture)}},
                "Commands": { "MaxPayloadBytes": 1024, "ResponseTopicPrefix": "xrf/v1/{{Fleet}}/_ops/lab-7/" }
                """),
            [],
            Environment);
        Assert.Equal(1024, settings.Mqtt.Commands.MaxPayloadBytes);
        using var subscriber = new MqttSubscriber(broker.Port, "profile-sub", $"xrf/v1/{Fleet}/#");
        await using var publisher = Publisher(settings);
        await publisher.StartAsync(CancellationToken.None);
        Assert.True(await Wait.UntilAsync(() => publisher.IsConnected), "the publisher did not connect");

        // 1,500 bytes: under the library's default cap (8 KiB), over the profile's 1,024. Sent until the device, which
        // subscribes to its commands on connect, answers.
        var padding = new string('x', 1400);
        var oversized = PublishUntilAnswered(broker, subscriber, Root + "/cmd_resp", r => r.Contains("larger than 1024 bytes", StringComparison.Ordinal), i => ($$"""{"command_id":"big-{{i}}","sample_id":"{{padding}}"}""", null));
        Assert.Contains("\"status\":\"rejected\"", oversized, StringComparison.Ordinal);

        // A Response Topic under the configured prefix is answered there; one in the default _ops namespace, outside it, is not.
        var inside = $"xrf/v1/{Fleet}/_ops/lab-7/me";
        var pong = PublishUntilAnswered(broker, subscriber, inside, r => r.Contains("\"status\":\"completed\"", StringComparison.Ordinal), i => ($$"""{"command_id":"in-{{i}}"}""", inside));
        Assert.Contains("\"pong\"", pong, StringComparison.Ordinal);

        var outside = $"xrf/v1/{Fleet}/_ops/other/me";
        var refused = PublishUntilAnswered(broker, subscriber, Root + "/cmd_resp", r => r.Contains("_ops/other/me", StringComparison.Ordinal), i => ($$"""{"command_id":"out-{{i}}"}""", outside));
        Assert.Contains("\"status\":\"rejected\"", refused, StringComparison.Ordinal);
        Assert.Contains($"replies go only under \\u0027xrf/v1/{Fleet}/_ops/lab-7/\\u0027", refused, StringComparison.Ordinal); // ' as the reply's JSON escapes it
        Assert.DoesNotContain(subscriber.Messages, m => m.Topic == outside);
    }

    /// <summary>
    /// Publishes a ping (a fresh id each time) every second until a reply that <paramref name="isAnswer"/> accepts reaches
    /// <paramref name="replyTopic"/>: the device subscribes to its commands on connect, shortly after the publisher says so.
    /// </summary>
    private static string PublishUntilAnswered(MosquittoBroker broker, MqttSubscriber subscriber, string replyTopic, Func<string, bool> isAnswer, Func<int, (string Payload, string? ResponseTopic)> command)
    {
        for (var i = 0; i < 20; i++)
        {
            var (payload, responseTopic) = command(i);
            broker.Publish(Root + "/cmd/ping", payload, responseTopic);
            if (subscriber.WaitUntil(m => m.Any(x => x.Topic == replyTopic && isAnswer(x.Payload)), TimeSpan.FromSeconds(1)))
            {
                return subscriber.Messages.Last(x => x.Topic == replyTopic && isAnswer(x.Payload)).Payload;
            }
        }

        throw new TimeoutException($"no reply on {replyTopic}; seen:\n{string.Join('\n', subscriber.Messages.Select(m => m.Topic + " " + m.Payload))}");
    }

    /// <summary>A throw-away CA, a server certificate for DNS:localhost, and a client certificate whose key is encrypted.</summary>
    private void MakeCertificates()
    {
        TestCertificates.MakeCaAndServer(_folder, "DNS:localhost,IP:127.0.0.1");
        TestCertificates.MakeClient(_folder, "client", Device, KeyPassword);
    }

    private MosquittoBroker TlsBroker() => new(string.Join('\n', $"cafile {PathOf("ca.crt")}", $"certfile {PathOf("server.crt")}", $"keyfile {PathOf("server.key")}", "require_certificate true"));

    [EndToEndFact]
    public async Task ProfileClientCertificate_EncryptedKeyWithPassword_ConnectsToABrokerThatRequiresOne()
    {
        MakeCertificates();
        using var broker = TlsBroker();

        // Relative paths resolve against the profile's folder; the password comes from the environment, as on a device.
        var settings = ProfileLoader.Load(
            Profile($$"""
                "Host": "localhost", "Port": {{broker.Port.ToString(CultureInfo.InvariantCulture)}},
                "CaFile": "ca.crt", "CertFile": "client.crt", "KeyFile": "client.key"
                """),
            [],
            new Dictionary<string, string?> { ["XRFEDGE_Mqtt__KeyPassword"] = KeyPassword });
        Assert.Equal(PathOf("client.key"), settings.Mqtt.KeyFile);
        await using var publisher = Publisher(settings);
        await publisher.StartAsync(CancellationToken.None);
        Assert.True(await Wait.UntilAsync(() => publisher.IsConnected), "the publisher did not connect with its client certificate");
    }

    [EndToEndFact]
    public async Task ProfileWithoutClientCertificate_BrokerRequiresOne_NeverConnects()
    {
        // The counterpart of the test above: the same broker refuses the same profile without the client certificate.
        MakeCertificates();
        using var broker = TlsBroker();
        var settings = ProfileLoader.Load(Profile($$""" "Host": "localhost", "Port": {{broker.Port.ToString(CultureInfo.InvariantCulture)}}, "CaFile": "ca.crt" """), [], Environment);
        await using var publisher = Publisher(settings);
        await publisher.StartAsync(CancellationToken.None);
        Assert.False(await Wait.UntilAsync(() => publisher.IsConnected), "connected without a client certificate");
    }
}

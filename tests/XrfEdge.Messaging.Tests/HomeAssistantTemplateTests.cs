using System.Text;
using System.Text.Json;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Tests;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The Home Assistant discovery templates rendered by Jinja2 (Debian's python3-jinja2, in the sandboxed environment Home
/// Assistant renders templates in) against the payloads the instrument publishes on their topics: what the dashboard
/// shows, not only the template string. Home Assistant's MQTT sensor takes an empty rendering as a blank state and
/// <c>None</c> as unknown (its PAYLOAD_NONE).
/// </summary>
public sealed class HomeAssistantTemplateTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    // Reads "template<TAB>payload" lines, writes one JSON string per line: the rendering.
    private const string Render = """
        import json, sys
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        env = ImmutableSandboxedEnvironment()
        for line in sys.stdin.read().splitlines():
            template, payload = line.split("\t", 1)
            print(json.dumps(env.from_string(template).render(value=payload, value_json=json.loads(payload))))
        """;

    [DebianPythonFact("jinja2")]
    public void Templates_RenderedAgainstPublishedPayloads_ShowWhatTheInstrumentSays()
    {
        var templates = SensorTemplates();
        var measurement = TestData.Measurement("M-1");
        var nothingFound = measurement with { Identification = measurement.Identification with { Elements = [], Lines = [] } };
        var withSensor = Health(-31.8);
        var withoutSensor = Health(null);
        var status = Encoding.UTF8.GetString(StatusPayloads.BuildStatus(new InstrumentStatus { State = "idle", BootId = "b1", AppVersion = "0.1.0" }, Now));

        var rendered = RenderAll(
            (templates["last_elements"], Detection(measurement)),
            (templates["last_elements"], Detection(nothingFound)),
            (templates["detector_temperature"], withSensor),
            (templates["detector_temperature"], withoutSensor),
            (templates["outbox_depth"], withSensor),
            (templates["state"], status));

        Assert.Equal("Fe, Cr", rendered[0]);
        // A measurement with no element found said nothing (an empty state, shown blank) until 2026-11-24.
        Assert.Equal("none", rendered[1]);
        Assert.Equal("-31.8", rendered[2]);
        Assert.Equal("None", rendered[3]); // unknown in Home Assistant, not a number it fails to parse
        Assert.Equal("12", rendered[4]);
        Assert.Equal("idle", rendered[5]);
    }

    private static Dictionary<string, string> SensorTemplates()
    {
        var discovery = new HomeAssistantDiscovery(TestData.Topics);
        using var document = JsonDocument.Parse(discovery.BuildConfig());
        return document.RootElement.GetProperty("cmps").EnumerateObject().ToDictionary(
            c => c.Name[(discovery.ObjectId.Length + 1)..], c => c.Value.GetProperty("val_tpl").GetString()!);
    }

    private static string Detection(MeasurementResult measurement) =>
        Encoding.UTF8.GetString(DetectionPayload.Build(measurement, TestData.Stamp, TestData.Topics));

    private static string Health(double? detectorCelsius) => Encoding.UTF8.GetString(StatusPayloads.BuildHealth(
        new InstrumentHealth { DetectorTemperatureCelsius = detectorCelsius, InputCountsPerSecond = 48210 },
        new OutboxStatistics(12, 48231, TimeSpan.FromSeconds(315), 0, 0, 0, 123, null),
        new MqttHealth(true, 3, 7, "5"),
        null,
        Now));

    private static string[] RenderAll(params (string Template, string Payload)[] cases)
    {
        Assert.All(cases, c => Assert.DoesNotContain('\n', c.Template + c.Payload));
        var output = DebianPython.Run(Render, string.Join('\n', cases.Select(c => c.Template + "\t" + c.Payload)) + "\n", "rendering the Home Assistant templates");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonSerializer.Deserialize<string>(line)!)];
    }
}

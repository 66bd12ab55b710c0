using System.Buffers;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Messaging.Topics;

namespace XrfEdge.Messaging.Adapters;

/// <summary>
/// Home Assistant MQTT device-based discovery (home-assistant.io <c>source/_integrations/mqtt.markdown</c>; reference §1.2):
/// one retained config on <c>{prefix}/device/{object_id}/config</c> (<see cref="ObjectId"/>) describing the instrument as a device with sensors for
/// state, last elements, detector temperature and outbox depth, all reading the native topics and sharing the native
/// availability topic. Re-sent on every connect and, after a random delay, whenever Home Assistant's birth
/// (<c>{prefix}/status</c> = online) arrives.
/// </summary>
public sealed class HomeAssistantDiscovery
{
    /// <summary>
    /// The "Last elements" sensor's template. Since 2026-11-24 the sensor reads the retained <c>detections/latest</c>
    /// (<see cref="TopicTree.DetectionsLatest"/>), which holds only the latest measurement: a re-analysed detection is
    /// there only when it is of a later measurement than every live one delivered, so every message there is shown.
    /// Before, it read <c>detections</c> and kept its state for a re-analysed one (<c>this.state</c>), and after a Home
    /// Assistant restart it showed <em>unknown</em> until the next live detection. A measurement in which no element was
    /// found shows <c>none</c> since 2026-11-24: the join gave an empty string, which Home Assistant's MQTT sensor takes
    /// as a blank state, so the dashboard showed nothing where the instrument had an answer. Not <c>None</c>, which the
    /// MQTT sensor reads as "unknown" (its PAYLOAD_NONE).
    /// </summary>
    internal const string LastElementsTemplate = "{{ value_json.elements | map(attribute='el') | join(', ') or 'none' }}";

    // Every project shares Directory.Build.props' <Version>, so this is the version of the service the instrument runs.
    private static readonly string SoftwareVersion = typeof(HomeAssistantDiscovery).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private readonly TopicTree _topics;

    /// <summary>Creates the adapter.</summary>
    public HomeAssistantDiscovery(TopicTree topics, string prefix = "homeassistant")
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(prefix);

        // Home Assistant subscribes to {prefix}/#: the prefix is one or more non-empty topic levels without wildcards.
        if (prefix.Length == 0 || prefix.StartsWith('/') || prefix.EndsWith('/') || prefix.Contains("//", StringComparison.Ordinal)
            || prefix.IndexOfAny(['+', '#', '\0']) >= 0 || prefix.StartsWith('$'))
        {
            throw new ArgumentException($"Home Assistant discovery prefix '{prefix}' must be non-empty topic levels without '+', '#', NUL, a leading '$' or an empty level (default 'homeassistant').", nameof(prefix));
        }

        _topics = topics;
        ObjectId = ObjectIdOf(topics.Fleet, topics.Device);
        ConfigTopic = $"{prefix}/device/{ObjectId}/config";
        LegacyConfigTopic = topics.Fleet.Contains('_', StringComparison.Ordinal) ? $"{prefix}/device/xrfedge_{topics.Fleet}_{topics.Device}/config" : null;
        StatusTopic = $"{prefix}/status";
    }

    /// <summary>
    /// Discovery object id (<c>[A-Za-z0-9_-]</c>), also the device identifier and the stem of every unique id:
    /// <c>xrfedge_{fleet}_{device}</c> when the fleet id has no <c>_</c>, else <c>xrfedge__{fleet length}_{fleet}_{device}</c>.
    /// </summary>
    /// <remarks>
    /// Both ids may contain <c>_</c>, so until 2026-11-24 <c>xrfedge_{fleet}_{device}</c> gave fleet <c>acme_north</c>
    /// device <c>XRF-1</c> and fleet <c>acme</c> device <c>north_XRF-1</c> the same id, and the two instruments one device in
    /// Home Assistant. An underscore-free fleet ends at the first <c>_</c> after the prefix, so those ids stay as they were
    /// (a changed unique id orphans the entities' history); any other fleet gets an empty first level, which no fleet id
    /// has, and its length, which says where the device id begins.
    /// </remarks>
    public string ObjectId { get; }

    /// <summary><c>{prefix}/device/{object_id}/config</c>.</summary>
    public string ConfigTopic { get; }

    /// <summary>
    /// Where versions before 2026-11-24 put this instrument's config when its fleet id contains <c>_</c>
    /// (<c>{prefix}/device/xrfedge_{fleet}_{device}/config</c>), else null. Another fleet's instrument may now own that
    /// topic: clear it only after <see cref="IsOwnLegacyConfig"/>.
    /// </summary>
    public string? LegacyConfigTopic { get; }

    /// <summary>
    /// True when <paramref name="payload"/> (retained on <see cref="LegacyConfigTopic"/>) is this instrument's config of an
    /// earlier version: a JSON object whose <c>avty_t</c> is this instrument's availability topic, <c>dev.sn</c> its device
    /// id and <c>dev.ids[0]</c> the old object id.
    /// </summary>
    /// <remarks>
    /// The availability topic <c>xrf/v1/{fleet}/{device}/availability</c> is what makes it this instrument's: its levels
    /// are split by <c>/</c>, which no id contains, and every version has written it. Serial and old id alone are not
    /// enough, since a fleet id may begin with <c>_</c>: fleet <c>_5_ab_cd</c> device <c>XRF-1</c> had the old id
    /// <c>xrfedge__5_ab_cd_XRF-1</c>, the current id of fleet <c>ab_cd</c> device <c>XRF-1</c>, whose config carries the same
    /// serial and id; until 2026-11-24 (the day the clean-up came) the first instrument deleted the second's config.
    /// </remarks>
    public bool IsOwnLegacyConfig(ReadOnlySpan<byte> payload)
    {
        if (LegacyConfigTopic is null || payload.IsEmpty)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("avty_t", out var availability) && availability.ValueKind == JsonValueKind.String && availability.ValueEquals(_topics.Availability)
                && document.RootElement.TryGetProperty("dev", out var device) && device.ValueKind == JsonValueKind.Object
                && device.TryGetProperty("sn", out var serial) && serial.ValueKind == JsonValueKind.String && serial.ValueEquals(_topics.Device)
                && device.TryGetProperty("ids", out var ids) && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() > 0
                && ids[0].ValueKind == JsonValueKind.String && ids[0].ValueEquals($"xrfedge_{_topics.Fleet}_{_topics.Device}");
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Home Assistant's birth/LWT topic.</summary>
    public string StatusTopic { get; }

    /// <summary>The discovery JSON.</summary>
    public byte[] BuildConfig()
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("dev");
            w.WriteStartArray("ids");
            w.WriteStringValue(ObjectId);
            w.WriteEndArray();
            w.WriteString("name", $"XRF {_topics.Device}");
            w.WriteString("mf", "XrfEdge");
            w.WriteString("mdl", "Portable XRF analyser");
            w.WriteString("sn", _topics.Device);
            w.WriteString("sw", SoftwareVersion);
            w.WriteEndObject();
            w.WriteStartObject("o");
            w.WriteString("name", "XrfEdge");
            w.WriteString("sw", SoftwareVersion);
            w.WriteEndObject();
            w.WriteString("avty_t", _topics.Availability);
            w.WriteNumber("qos", 1);
            w.WriteStartObject("cmps");
            Sensor(w, "state", "State", _topics.Status, "{{ value_json.state }}", null, null, null);
            // Same key, so the same unique id: the entity and its history survive the move to the retained topic.
            Sensor(w, "last_elements", "Last elements", _topics.DetectionsLatest, LastElementsTemplate, null, null, null);
            // A null temperature renders "None", which Home Assistant's MQTT sensor takes as unknown (its PAYLOAD_NONE).
            Sensor(w, "detector_temperature", "Detector temperature", _topics.Health, "{{ value_json.temps_c.detector }}", "°C", "temperature", "measurement");
            Sensor(w, "outbox_depth", "Outbox depth", _topics.Health, "{{ value_json.outbox.depth }}", null, null, "measurement");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void Sensor(Utf8JsonWriter w, string key, string name, string stateTopic, string template, string? unit, string? deviceClass, string? stateClass)
    {
        w.WriteStartObject($"{ObjectId}_{key}");
        w.WriteString("p", "sensor");
        w.WriteString("name", name);
        w.WriteString("uniq_id", $"{ObjectId}_{key}");
        w.WriteString("stat_t", stateTopic);
        w.WriteString("val_tpl", template);
        if (unit is not null)
        {
            w.WriteString("unit_of_meas", unit);
        }

        if (deviceClass is not null)
        {
            w.WriteString("dev_cla", deviceClass);
        }

        if (stateClass is not null)
        {
            w.WriteString("stat_cla", stateClass);
        }

        w.WriteEndObject();
    }

    private static string ObjectIdOf(string fleet, string device) =>
        fleet.Contains('_', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"xrfedge__{fleet.Length}_{fleet}_{device}")
            : $"xrfedge_{fleet}_{device}";
}

using System.Buffers;
using System.Text.Json;
using XrfEdge.Messaging.Topics;

namespace XrfEdge.Messaging.Adapters;

/// <summary>
/// Home Assistant MQTT device-based discovery (home-assistant.io <c>source/_integrations/mqtt.markdown</c>; reference §1.2):
/// one retained config on <c>{prefix}/device/{object_id}/config</c> describing the instrument as a device with sensors for
/// state, last elements, detector temperature and outbox depth, all reading the native topics and sharing the native
/// availability topic. Re-sent on every connect and whenever Home Assistant's birth (<c>{prefix}/status</c> = online) arrives.
/// </summary>
public sealed class HomeAssistantDiscovery
{
    /// <summary>
    /// The "Last elements" sensor's template. A detection the service made later from a stored spectrum
    /// (<c>"reanalysed": true</c>, after a model outage) is not the latest measurement: the sensor keeps its state
    /// (<c>this</c>, the entity's own state object, which Home Assistant gives MQTT value templates) instead of showing an
    /// older measurement's elements until the next live one, as it did until 2026-11-24.
    /// </summary>
    internal const string LastElementsTemplate =
        "{% if value_json.reanalysed | default(false) %}{{ this.state }}{% else %}{{ value_json.elements | map(attribute='el') | join(', ') }}{% endif %}";

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
        ObjectId = $"xrfedge_{topics.Fleet}_{topics.Device}";
        ConfigTopic = $"{prefix}/device/{ObjectId}/config";
        StatusTopic = $"{prefix}/status";
    }

    /// <summary>Discovery object id (<c>[A-Za-z0-9_-]</c>), also the device identifier.</summary>
    public string ObjectId { get; }

    /// <summary><c>{prefix}/device/{object_id}/config</c>.</summary>
    public string ConfigTopic { get; }

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
            w.WriteEndObject();
            w.WriteStartObject("o");
            w.WriteString("name", "XrfEdge");
            w.WriteString("sw", typeof(HomeAssistantDiscovery).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            w.WriteEndObject();
            w.WriteString("avty_t", _topics.Availability);
            w.WriteNumber("qos", 1);
            w.WriteStartObject("cmps");
            Sensor(w, "state", "State", _topics.Status, "{{ value_json.state }}", null, null, null);
            Sensor(w, "last_elements", "Last elements", _topics.Detections, LastElementsTemplate, null, null, null);
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
}

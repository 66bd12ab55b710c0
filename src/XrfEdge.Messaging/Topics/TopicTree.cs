using System.Text.RegularExpressions;

namespace XrfEdge.Messaging.Topics;

/// <summary>
/// The native topic tree <c>xrf/v1/{fleet}/{device}/…</c> (docs/mqtt.md; reference §1.4). Fleet and device ids use only
/// <c>[A-Za-z0-9_-]</c> (no MQTT wildcards or separators, and valid Home Assistant object ids).
/// </summary>
public sealed partial class TopicTree
{
    /// <summary>Creates the tree for one instrument.</summary>
    /// <exception cref="ArgumentException">An id is empty or contains characters outside <c>[A-Za-z0-9_-]</c>.</exception>
    public TopicTree(string fleet, string device)
    {
        Validate(fleet, nameof(fleet));
        Validate(device, nameof(device));
        Fleet = fleet;
        Device = device;
        Root = $"xrf/v1/{fleet}/{device}";
    }

    /// <summary>Fleet (site/customer) id.</summary>
    public string Fleet { get; }

    /// <summary>Device id (instrument serial).</summary>
    public string Device { get; }

    /// <summary><c>xrf/v1/{fleet}/{device}</c>.</summary>
    public string Root { get; }

    /// <summary>Retained <c>online</c>/<c>offline</c>; also the last will.</summary>
    public string Availability => $"{Root}/availability";

    /// <summary>Retained status JSON.</summary>
    public string Status => $"{Root}/status";

    /// <summary>Periodic health JSON (retained latest value, not backlogged).</summary>
    public string Health => $"{Root}/health";

    /// <summary>Detection results, QoS 1, through the outbox.</summary>
    public string Detections => $"{Root}/detections";

    /// <summary>
    /// Retained copy of the newest delivered detection (QoS 1, since 2026-11-24): <c>…/detections/latest</c>. A filter
    /// <c>…/detections</c> does not match it; <c>…/#</c> does, so such a subscriber sees each detection twice (same
    /// <c>msg_id</c>).
    /// </summary>
    public string DetectionsLatest => $"{Root}/detections/latest";

    /// <summary>Subscription filter for every command: <c>…/cmd/+</c>.</summary>
    public string CommandFilter => $"{Root}/cmd/+";

    /// <summary>Prefix of command topics, <c>…/cmd/</c>.</summary>
    public string CommandPrefix => $"{Root}/cmd/";

    /// <summary>Default response topic for 3.1.1 requesters that name none: <c>…/cmd_resp</c>.</summary>
    public string DefaultResponse => $"{Root}/cmd_resp";

    /// <summary>Raw spectrum of one measurement (protobuf).</summary>
    public string Spectrum(string measurementId)
    {
        Validate(measurementId, nameof(measurementId));
        return $"{Root}/spectrum/{measurementId}";
    }

    /// <summary>Topic of command <paramref name="name"/>.</summary>
    public string Command(string name) => $"{CommandPrefix}{name}";

    /// <summary>True when <paramref name="id"/> is usable as a topic level here.</summary>
    public static bool IsValidId(string? id) => !string.IsNullOrEmpty(id) && id.Length <= 128 && IdPattern().IsMatch(id);

    private static void Validate(string id, string name)
    {
        if (!IsValidId(id))
        {
            throw new ArgumentException($"Topic id '{id}' must be 1–128 characters of [A-Za-z0-9_-] (no '/', '+', '#').", name);
        }
    }

    // \z, not $: .NET's $ also matches before a final '\n', which let "XRF-0042\n" through as a topic level.
    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z")]
    private static partial Regex IdPattern();
}

using System.Globalization;
using System.Text.Json;

namespace XrfEdge.Messaging.Payloads;

/// <summary>
/// Where an <c>xrf.detections/1</c> message stands among the instrument's measurements: its <c>seq</c>, when it was
/// measured, and whether it was analysed later (<c>"reanalysed": true</c>). Decides which detection the retained
/// <c>…/detections/latest</c> copy holds (docs/mqtt.md §1 "Latest detection").
/// </summary>
/// <param name="Seq">The message's <c>seq</c>.</param>
/// <param name="MeasuredAt">
/// <c>acquired.end</c>, else <c>acquired.start</c>, else for a live detection <c>created</c> (made as its measurement
/// ended); null for a re-analysed one without acquisition times, whose <c>created</c> is the time of its analysis, and
/// for a time before <see cref="EarliestPlausibleTime"/> (a clock not yet set).
/// </param>
/// <param name="Reanalysed">True for a detection made later from a stored spectrum.</param>
internal readonly record struct DetectionOrder(long Seq, DateTimeOffset? MeasuredAt, bool Reanalysed)
{
    /// <summary>
    /// True when this detection is of a later measurement than <paramref name="current"/>: it was measured later (both
    /// times known), or it is live and has the higher <c>seq</c>. A live detection's seq is given when its measurement
    /// ends, after every measurement analysed before it, so a higher one is a later measurement whatever the clock
    /// did; a re-analysed one takes the next seq when it is analysed, long after it was measured, so only its
    /// measurement time can place it. Either test alone fails somewhere: seq alone lets a re-analysed old measurement
    /// replace a newer live one, time alone keeps every detection out after the clock was set back (an RTC lost in a
    /// power cut) until it catches up.
    /// </summary>
    public bool IsNewerThan(DetectionOrder current) =>
        (MeasuredAt is { } mine && current.MeasuredAt is { } theirs && mine > theirs)
        || (!Reanalysed && Seq > current.Seq);

    /// <summary>Reads the order of a detection payload; false (and the reason) when it is no <c>xrf.detections/1</c> message with a seq.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out DetectionOrder order, out string? problem)
    {
        order = default;
        if (payload.IsEmpty)
        {
            problem = "empty payload";
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schema", out var schema) || !schema.ValueEquals(DetectionPayload.SchemaId))
            {
                problem = $"not an {DetectionPayload.SchemaId} message";
                return false;
            }

            if (!root.TryGetProperty("seq", out var seqElement) || !seqElement.TryGetInt64(out var seq))
            {
                problem = "'seq' missing or not an integer";
                return false;
            }

            var reanalysed = root.TryGetProperty("reanalysed", out var flag) && flag.ValueKind == JsonValueKind.True;
            DateTimeOffset? measuredAt = null;
            if (root.TryGetProperty("acquired", out var acquired) && acquired.ValueKind == JsonValueKind.Object)
            {
                measuredAt = Time(acquired, "end") ?? Time(acquired, "start");
            }

            if (measuredAt is null && !reanalysed)
            {
                measuredAt = Time(root, "created");
            }

            order = new DetectionOrder(seq, measuredAt, reanalysed);
            problem = null;
            return true;
        }
        catch (JsonException ex)
        {
            problem = "not JSON: " + ex.Message;
            return false;
        }
    }

    /// <summary>
    /// True when <paramref name="payload"/> names <paramref name="fleet"/> and <paramref name="device"/> (its <c>fleet</c>
    /// and <c>device</c> members); false for another instrument's message or one that is no JSON object.
    /// </summary>
    public static bool IsOf(ReadOnlySpan<byte> payload, string fleet, string device)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("fleet", out var f) && f.ValueKind == JsonValueKind.String && f.ValueEquals(fleet)
                && root.TryGetProperty("device", out var d) && d.ValueKind == JsonValueKind.String && d.ValueEquals(device);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The earliest time read as a time: XrfEdge measured nothing before 2026, so an earlier stamp comes from a clock not
    /// yet set (a Pi without a real-time clock boots at 1970, or under systemd at systemd's build date, until NTP) and
    /// is taken as unknown. Such a time would otherwise place an older re-analysed measurement after a live one made
    /// before the clock was set (since 2026-11-24).
    /// </summary>
    public static readonly DateTimeOffset EarliestPlausibleTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset? Time(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
        && time >= EarliestPlausibleTime
            ? time
            : null;
}

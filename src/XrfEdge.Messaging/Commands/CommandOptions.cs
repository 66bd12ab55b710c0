using XrfEdge.Messaging.Topics;

namespace XrfEdge.Messaging.Commands;

/// <summary>
/// Remote command settings; the service sets them from its <c>Mqtt</c> section (<c>Mqtt:RemoteControl</c>) and its
/// <c>Mqtt:Commands</c> section (the limits below; firmware-config/README.md).
/// </summary>
public sealed class CommandOptions
{
    /// <summary>Longest <see cref="ResponseTopicPrefix"/>: half of a reply topic's 256 characters, the rest is the requester's.</summary>
    public const int MaxResponseTopicPrefixLength = 128;

    /// <summary>
    /// Local switch that allows remote X-ray start. Off by default: radiation safety requires an operator's local decision;
    /// even when on, the interlock must also allow exposure.
    /// </summary>
    public bool RemoteControlEnabled { get; set; }

    /// <summary>
    /// Commands whose <c>ts</c> is older than this are ignored as expired, checked on arrival and again immediately before
    /// the instrument is called; 60 s by default. A <c>start</c> must carry <c>ts</c> or an MQTT 5 Message Expiry of at
    /// most this long, so that no start can be replayed later.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Most (command, <c>command_id</c>) pairs remembered for de-duplication; 16,384 by default. Each is kept for
    /// <see cref="MaxAge"/> + <see cref="MaxClockSkew"/>, the longest a command with <c>ts</c> stays valid, so a repeated
    /// start is caught however many other commands come between. When this many are still remembered, a further
    /// <c>start</c> is rejected (<c>busy</c>) rather than run without replay protection; 16,384 entries of at most
    /// 128-character ids are a few MiB.
    /// </summary>
    public int DeduplicationCapacity { get; set; } = 16_384;

    /// <summary>Largest command payload parsed, in bytes; larger ones are rejected unread. 8 KiB by default (a command is ≈ 100–300 bytes).</summary>
    public int MaxPayloadBytes { get; set; } = 8 * 1024;

    /// <summary>
    /// Most commands being handled at once (waiting for the instrument or for their replies' PUBACKs); 32 by default.
    /// Beyond it a further command is dropped without a reply and counted in <see cref="CommandProcessor.Dropped"/>,
    /// except <c>stop</c>, which is still executed (without replies).
    /// </summary>
    public int MaxPendingCommands { get; set; } = 32;

    /// <summary>
    /// The prefix every reply topic (v5 Response Topic or <c>reply_to</c>) must start with, besides the device's own
    /// <c>…/cmd_resp</c>; null (default) = the fleet's operations namespace <c>xrf/v1/{fleet}/_ops/</c> (docs/mqtt.md §2).
    /// Must meet <see cref="CheckResponseTopicPrefix"/>; <see cref="CommandProcessor"/> refuses one that does not.
    /// </summary>
    public string? ResponseTopicPrefix { get; set; }

    /// <summary>
    /// Why <paramref name="prefix"/> cannot be the <see cref="ResponseTopicPrefix"/> of the device of
    /// <paramref name="topics"/>, or null when it can. A prefix names whole topic levels (it ends with <c>/</c>, no empty
    /// level, no leading <c>/</c>), holds no wildcard (<c>+</c>, <c>#</c>) or NUL, is no <c>$</c> broker topic, and is at
    /// most <see cref="MaxResponseTopicPrefixLength"/> characters. It must not open a tree the device or its fleet
    /// publishes state into, or requesters could make the device write there (docs/mqtt.md §2): under <c>xrf/</c> only
    /// the fleet's operations namespace <c>xrf/v1/{fleet}/_ops/…</c> is allowed (anything else there covers this device's
    /// tree, another device's or another fleet's), and <c>spBv1.0/</c> (Sparkplug) and <c>homeassistant/</c> (discovery)
    /// are refused. A back end's own tree (<c>acme/replies/</c>) is allowed.
    /// </summary>
    public static string? CheckResponseTopicPrefix(string prefix, TopicTree topics)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(topics);
        var operations = $"xrf/v1/{topics.Fleet}/_ops/";
        return prefix.Length == 0 ? "must not be empty (leave it out for the default, " + operations + ")"
            : prefix.Length > MaxResponseTopicPrefixLength ? $"is {prefix.Length} characters long; at most {MaxResponseTopicPrefixLength} (a reply topic has at most 256)"
            : prefix.AsSpan().IndexOfAny('+', '#', '\0') >= 0 ? "must not contain the MQTT wildcards '+' or '#' (or NUL): it is the start of a topic name"
            : prefix.StartsWith('$') ? "must not start with '$': those are the broker's own topics"
            : prefix.StartsWith('/') || prefix.Contains("//", StringComparison.Ordinal) ? "must not have an empty topic level (a leading '/' or '//')"
            : !prefix.EndsWith('/') ? $"must end with '/', so that it admits whole topic levels ('{prefix}' would also admit '{prefix}-other/…')"
            : prefix.StartsWith("xrf/", StringComparison.Ordinal) && !prefix.StartsWith(operations, StringComparison.Ordinal)
                ? $"under 'xrf/' only the fleet's operations namespace '{operations}' (or a folder below it) is allowed: anything else there covers device trees, which replies must never reach"
            : prefix.StartsWith("spBv1.0/", StringComparison.Ordinal) || prefix.StartsWith("homeassistant/", StringComparison.Ordinal)
                ? "must not lie in the Sparkplug ('spBv1.0/') or Home Assistant ('homeassistant/') tree: the device publishes its own state there"
            : null;
    }

    /// <summary>
    /// Analysis modes a <c>start</c> may name in <c>mode</c>; any other value is rejected (<c>invalid</c>) rather than
    /// ignored, so a dashboard never believes an alloy or soil calibration ran when it did not. Default: <c>identify</c>,
    /// qualitative element identification by the line encoder, the only analysis XrfEdge has.
    /// </summary>
    public IReadOnlyList<string> AnalysisModes { get; set; } = [IdentifyMode];

    /// <summary>The analysis mode of element identification, and the <c>mode</c> recorded when a start names none.</summary>
    public const string IdentifyMode = "identify";

    /// <summary>Allowed clock skew for a <c>ts</c> in the future; 30 s by default.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

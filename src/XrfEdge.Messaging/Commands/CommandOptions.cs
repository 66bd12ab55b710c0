namespace XrfEdge.Messaging.Commands;

/// <summary>Remote command settings; the service sets them from its <c>Mqtt</c> section (<c>Mqtt:RemoteControl</c>).</summary>
public sealed class CommandOptions
{
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
    /// </summary>
    public string? ResponseTopicPrefix { get; set; }

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

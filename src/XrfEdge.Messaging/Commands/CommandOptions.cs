namespace XrfEdge.Messaging.Commands;

/// <summary>Remote command settings; the service sets them from its <c>Mqtt</c> section (<c>Mqtt:RemoteControl</c>).</summary>
public sealed class CommandOptions
{
    /// <summary>
    /// Local switch that allows remote X-ray start. Off by default: radiation safety requires an operator's local decision;
    /// even when on, the interlock must also allow exposure.
    /// </summary>
    public bool RemoteControlEnabled { get; set; }

    /// <summary>Commands whose <c>ts</c> is older than this are ignored as expired (v5 Message Expiry is honoured by the broker); 60 s by default.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many recent <c>command_id</c>s are remembered for de-duplication; 1,024 by default.</summary>
    public int DeduplicationWindow { get; set; } = 1024;

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

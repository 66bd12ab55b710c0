namespace XrfEdge.Messaging.Commands;

/// <summary>Remote command settings (configuration section <c>Commands</c>).</summary>
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

    /// <summary>Allowed clock skew for a <c>ts</c> in the future; 30 s by default.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

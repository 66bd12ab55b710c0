using XrfEdge.Messaging.Commands;

namespace XrfEdge.Service.Options;

/// <summary>
/// The <c>Mqtt:Commands</c> section: the limits of the remote command path (docs/mqtt.md §2). Unset keys keep the
/// library's defaults (<see cref="CommandOptions"/>); the ranges are checked at start-up (ProfileValidator).
/// </summary>
public sealed class MqttCommandsOptions
{
    /// <summary>Section name under <c>Mqtt</c>.</summary>
    public const string Section = "Commands";

    private static readonly CommandOptions Defaults = new();

    /// <summary>Largest command payload read, bytes (1024 … 1048576); 8192 by default. Larger ones are rejected unread.</summary>
    public int MaxPayloadBytes { get; set; } = Defaults.MaxPayloadBytes;

    /// <summary>Most commands handled at once (1 … 1024); 32 by default. Beyond it commands are dropped (warning 7044), except <c>stop</c>.</summary>
    public int MaxPendingCommands { get; set; } = Defaults.MaxPendingCommands;

    /// <summary>
    /// Where replies may go besides the device's own <c>…/cmd_resp</c>; unset = the fleet's operations namespace
    /// <c>xrf/v1/{Fleet}/_ops/</c>. Rules: <see cref="CommandOptions.CheckResponseTopicPrefix"/>.
    /// </summary>
    public string? ResponseTopicPrefix { get; set; }

    /// <summary>A command whose <c>ts</c> is older than this is ignored as expired, s (5 … 600); 60 by default.</summary>
    public int MaxAgeSeconds { get; set; } = (int)Defaults.MaxAge.TotalSeconds;

    /// <summary>Accepted clock skew for a <c>ts</c> in the future, s (0 … 300); 30 by default.</summary>
    public int MaxClockSkewSeconds { get; set; } = (int)Defaults.MaxClockSkew.TotalSeconds;

    /// <summary>Most command ids remembered against replays (256 … 262144); 16384 by default.</summary>
    public int DeduplicationCapacity { get; set; } = Defaults.DeduplicationCapacity;

    /// <summary>The library's options from this section and the local remote-control switch (<c>Mqtt:RemoteControl</c>).</summary>
    public CommandOptions ToCommandOptions(bool remoteControlEnabled) => new()
    {
        RemoteControlEnabled = remoteControlEnabled,
        MaxPayloadBytes = MaxPayloadBytes,
        MaxPendingCommands = MaxPendingCommands,
        ResponseTopicPrefix = string.IsNullOrEmpty(ResponseTopicPrefix) ? null : ResponseTopicPrefix,
        MaxAge = TimeSpan.FromSeconds(MaxAgeSeconds),
        MaxClockSkew = TimeSpan.FromSeconds(MaxClockSkewSeconds),
        DeduplicationCapacity = DeduplicationCapacity,
    };
}

using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Payloads;

/// <summary>The retained <c>status</c> message: what the instrument is and what it is doing.</summary>
public sealed record InstrumentStatus
{
    /// <summary>"starting", "idle", "measuring", "fault", "stopping" or "offline" (docs/schemas/status.schema.json).</summary>
    public required string State { get; init; }

    /// <summary>Random id of this process start, so dashboards see restarts.</summary>
    public required string BootId { get; init; }

    /// <summary>Application version.</summary>
    public required string AppVersion { get; init; }

    /// <summary>Loaded model, or null.</summary>
    public ModelIdentity? Model { get; init; }

    /// <summary>SHA-256 of the effective configuration, or null.</summary>
    public string? ConfigHash { get; init; }

    /// <summary>Whether local configuration allows remote X-ray start.</summary>
    public bool RemoteControlEnabled { get; init; }

    /// <summary>Last error sentence, or null.</summary>
    public string? LastError { get; init; }

    /// <summary>Why no model is loaded (the instrument measures without analysis), or null when one is.</summary>
    public string? ModelError { get; init; }
}

namespace XrfEdge.Service.Pipeline;

/// <summary>The retained status message: what the instrument is doing.</summary>
internal sealed record ServiceStatus(
    string State,
    string BootId,
    string AppVersion,
    string? ModelName,
    string? ModelVersion,
    string? ModelSha256,
    string ConfigHash,
    string Mode,
    bool InterlockClosed,
    string? LastError,
    string? ModelProblem,
    DateTimeOffset Timestamp);

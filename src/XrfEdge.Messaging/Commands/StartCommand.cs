namespace XrfEdge.Messaging.Commands;

/// <summary>Arguments of the remote <c>start</c> command.</summary>
/// <param name="Preset">Requested measurement time (1–3600 s), or null for the instrument's current preset.</param>
/// <param name="Mode">Measurement mode, e.g. "alloy", or null.</param>
/// <param name="SampleId">Operator's sample id, or null.</param>
public sealed record StartCommand(TimeSpan? Preset, string? Mode, string? SampleId);

using XrfEdge.Messaging.Commands;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// One request to start measuring (trigger input, auto-start or the MQTT <c>start</c> command) and what it asked for.
/// It travels with every measurement it starts, so the result carries its sample id and preset, and it is finished
/// exactly once: by the publisher when its first result (or, in scan mode, its scan summary) is committed, or by
/// whoever drops it (a start already pending, stop, open interlock, exhausted source).
/// </summary>
/// <param name="Origin">Who asked ("trigger", "mqtt", "auto-start"); logged.</param>
/// <param name="Preset">Preset for this start; null = Acquisition:PresetSeconds at the time the measurement begins.</param>
/// <param name="SampleId">The operator's sample id (MQTT <c>start</c> <c>sample_id</c>), or null.</param>
internal sealed record StartRequest(string Origin, TimeSpan? Preset = null, string? SampleId = null)
{
    private readonly TaskCompletionSource<CommandResult> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the request has been answered: the measurement's outcome, or why it never ran.</summary>
    public Task<CommandResult> Finished => _finished.Task;

    /// <summary>Answers the request; later calls are ignored (a Continuous loop finishes it with its first measurement).</summary>
    public void Finish(CommandResult result) => _finished.TrySetResult(result);

    /// <summary>Answers the request as failed: it was dropped before any measurement ran.</summary>
    public void Refuse(string reason) => Finish(CommandResult.Failed(reason));
}

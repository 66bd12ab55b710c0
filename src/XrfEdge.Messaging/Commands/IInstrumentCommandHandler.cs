namespace XrfEdge.Messaging.Commands;

/// <summary>
/// What the instrument does for remote commands; implemented by the service that owns the acquisition pipeline.
/// <c>ping</c> and <c>get_spectrum</c> are answered by XrfEdge.Messaging itself.
/// </summary>
/// <remarks>
/// <see cref="StartAsync"/>, <see cref="StopAsync"/> and <see cref="SetPresetAsync"/> are called one at a time, in the
/// order the commands arrived, and the next is called as soon as the previous one returns its task (not when the task
/// completes: a start's task lasts the whole measurement). An implementation must therefore make its state change
/// (request the start, the stop, the preset) before the returned task first yields, as the service's does.
/// </remarks>
public interface IInstrumentCommandHandler
{
    /// <summary>True when the hardware interlock (lid closed, sample present, key switch) allows X-ray exposure now.</summary>
    bool InterlockAllowsExposure { get; }

    /// <summary>Starts a measurement and completes when it has ended (result includes <c>measurement_id</c>).</summary>
    Task<CommandResult> StartAsync(StartCommand command, CancellationToken cancellationToken);

    /// <summary>Stops the running measurement (X-ray off).</summary>
    Task<CommandResult> StopAsync(CancellationToken cancellationToken);

    /// <summary>Sets the default measurement time.</summary>
    Task<CommandResult> SetPresetAsync(TimeSpan preset, CancellationToken cancellationToken);
}

using XrfEdge.Messaging.Commands;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>Records calls; the real handler lives in the service project (it owns the acquisition pipeline).</summary>
public sealed class FakeInstrumentHandler : IInstrumentCommandHandler
{
    private int _starts;
    private int _stops;

    public bool InterlockAllowsExposure { get; set; } = true;

    public int Starts => Volatile.Read(ref _starts);

    public int Stops => Volatile.Read(ref _stops);

    public TimeSpan? LastPreset { get; private set; }

    public StartCommand? LastStart { get; private set; }

    public Task<CommandResult> StartAsync(StartCommand command, CancellationToken cancellationToken)
    {
        LastStart = command;
        Interlocked.Increment(ref _starts);
        return Task.FromResult(CommandResult.Completed(new Dictionary<string, string> { ["measurement_id"] = "M-REMOTE-1", ["sample_id"] = command.SampleId ?? string.Empty }));
    }

    public Task<CommandResult> StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _stops);
        return Task.FromResult(CommandResult.Completed());
    }

    public Task<CommandResult> SetPresetAsync(TimeSpan preset, CancellationToken cancellationToken)
    {
        LastPreset = preset;
        return Task.FromResult(CommandResult.Completed());
    }
}

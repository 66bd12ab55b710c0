using Microsoft.Extensions.Hosting;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// A <see cref="BackgroundService"/> whose work runs even when the stop comes before the thread pool began it: the
/// pipeline stages (acquisition, analysis, publishing), each of which must complete or drain its channel for the next
/// stage to end and for what is queued to be stored. Since .NET 10, <see cref="BackgroundService.StartAsync"/> queues
/// <c>ExecuteAsync</c> with <c>Task.Run</c> on its stopping token, so a stage whose stop came first (a SIGTERM during
/// start-up, a pool starved at boot) was cancelled unrun: what acquisition had queued was never stored, the publisher
/// was never stopped, and the stop waited out the host's shutdown time-out on channels nobody completed (until
/// 2026-11-24). <see cref="StopAsync"/> then runs <see cref="RunStageAsync"/> itself, with the stop already requested,
/// which each stage handles as a stop that came while it ran. It runs once either way.
/// </summary>
internal abstract class DrainingBackgroundService : BackgroundService
{
    private int _started;

    /// <summary>The stage's work: what <c>ExecuteAsync</c> would be.</summary>
    protected abstract Task RunStageAsync(CancellationToken stoppingToken);

    /// <inheritdoc/>
    protected sealed override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Interlocked.Exchange(ref _started, 1) == 0 ? RunStageAsync(stoppingToken) : Task.CompletedTask;

    /// <inheritdoc/>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // The framework cancels the stopping token and waits for ExecuteAsync's task: a task cancelled before it began
        // has completed, and the pool can no longer begin it, so the flag below is final once this returns.
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            var stage = RunStageAsync(new CancellationToken(canceled: true));
            try
            {
                await stage.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stage.IsCompleted && cancellationToken.IsCancellationRequested)
            {
                // The host's shutdown time-out ends the wait, not the stage, and is no error: as in the framework's own
                // StopAsync. Thrown, it made a stage still draining at the time-out a failed stop (until 2026-11-24,
                // second review). A stage that fails is still thrown, as its crash (health and exit code are set by it).
            }
        }
    }
}

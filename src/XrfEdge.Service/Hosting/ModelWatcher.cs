using Microsoft.Extensions.Hosting;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// While the service runs without a model (<see cref="ModelSlot"/>), looks every <see cref="Interval"/> whether the
/// model files changed and, if so, loads them; then shows the model (identity, status, health) and ends. A change
/// refused again shows its new reason. Does nothing when the model loaded at start-up.
/// </summary>
internal sealed class ModelWatcher(ModelSlot slot, ServiceIdentity identity, InstrumentStatus status, TimeProvider time) : BackgroundService
{
    /// <summary>How often the files are looked at: two <c>statx</c> calls, so a fixed model is in use within seconds.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Subscribed before the host goes on (ExecuteAsync may start later on the thread pool), so a load by the
        // analysis stage between two looks is shown too.
        slot.Loaded += Show;
        slot.Refused += Show; // changed files refused again: the new reason replaces the old one in the status
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (slot.Model is not null)
            {
                return;
            }

            using var timer = new PeriodicTimer(Interval, time);
            while (slot.Model is null && await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                slot.TryLoad();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The slot was disposed by the host's shutdown while a look was due.
        }
    }

    private void Show()
    {
        identity.Model = slot.Model;
        status.SetModelProblem(slot.Problem);
    }
}

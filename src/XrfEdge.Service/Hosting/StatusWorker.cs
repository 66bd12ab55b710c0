using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// Shows the state: LEDs and the retained status message on every change, a health message every
/// Health:IntervalSeconds. Changes are coalesced (a signal of capacity 1), so a burst of state flips costs one
/// publication.
/// </summary>
internal sealed class StatusWorker(
    InstrumentStatus status,
    IResultPublisher publisher,
    IInstrumentIo io,
    PipelineChannels channels,
    PipelineHealth health,
    ServiceIdentity identity,
    ServiceSettings settings,
    TimeProvider time) : BackgroundService
{
    private readonly SemaphoreSlim _changed = new(0, 1);
    private (ServiceState, bool, bool, string?, string?)? _lastShown;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        status.Changed += Signal;
        try
        {
            var interval = TimeSpan.FromSeconds(settings.Health.IntervalSeconds);
            long lastHealth = long.MinValue;
            await ShowAsync(stoppingToken).ConfigureAwait(false);
            await PublishHealthAsync(stoppingToken).ConfigureAwait(false);
            lastHealth = time.GetTimestamp();
            while (!stoppingToken.IsCancellationRequested)
            {
                var untilHealth = interval - time.GetElapsedTime(lastHealth);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                bool changed;
                try
                {
                    changed = untilHealth > TimeSpan.Zero && await WaitChangedAsync(untilHealth, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                if (changed)
                {
                    await ShowAsync(stoppingToken).ConfigureAwait(false);
                }
                else
                {
                    await PublishHealthAsync(stoppingToken).ConfigureAwait(false);
                    lastHealth = time.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            status.Changed -= Signal;
        }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private async Task<bool> WaitChangedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await _changed.WaitAsync(linked.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private void Signal()
    {
        try
        {
            if (_changed.CurrentCount == 0)
            {
                _changed.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the pending publication will show the latest state.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ShowAsync(CancellationToken cancellationToken)
    {
        var state = status.State;
        bool connected = publisher.IsConnected;
        var shown = (state, connected, status.InterlockClosed, status.LastError, status.ModelProblem);
        if (_lastShown == shown)
        {
            return; // a flip and back (measuring → idle → measuring) between two looks: nothing new to show
        }

        _lastShown = shown;
        io.ShowState(state, connected, shown.InterlockClosed);
        var model = identity.Model;
        await publisher.PublishStatusAsync(
            new ServiceStatus(
                state.ToString().ToLowerInvariant(),
                identity.BootId,
                identity.AppVersion,
                model?.Name,
                model?.Version,
                model?.Sha256,
                identity.ConfigHash,
                settings.Acquisition.Mode.ToString(),
                status.InterlockClosed,
                status.LastError,
                status.ModelProblem,
                time.GetUtcNow()),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishHealthAsync(CancellationToken cancellationToken)
    {
        using var process = Process.GetCurrentProcess();
        await publisher.PublishHealthAsync(
            new HealthReport(
                time.GetUtcNow(),
                time.GetUtcNow() - identity.Started,
                identity.BootId,
                status.Completed,
                status.Aborted,
                status.Failed,
                publisher.PendingCount,
                publisher.IsConnected,
                channels.Spectra.Reader.Count,
                channels.Results.Reader.Count,
                process.WorkingSet64,
                health.IsAlive(out _)),
            cancellationToken).ConfigureAwait(false);
    }
}

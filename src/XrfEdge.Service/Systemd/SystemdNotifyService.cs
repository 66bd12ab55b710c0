using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Systemd;

/// <summary>
/// The systemd side of the host (what Microsoft.Extensions.Hosting.Systemd's SystemdLifetime does, plus what it
/// lacks): READY=1 once every hosted service has started (model loaded, outbox open, MCA answered; MQTT is not
/// waited for, offline is normal), STATUS= on every state change, WATCHDOG=1 every WATCHDOG_USEC/2 but only while
/// <see cref="PipelineHealth"/> says every worker is alive, and STOPPING=1 (with EXTEND_TIMEOUT_USEC for the stop budget)
/// as soon as the stop begins. SIGTERM itself
/// is handled by the Generic Host's console lifetime (StopApplication). STATUS= lines are composed off the ping loop
/// and off the threads that change the state: the outbox depth they show is read under the outbox's lock, which a
/// store waiting on another process's write lock holds for up to its busy timeout, and the pings must not wait for it.
/// </summary>
internal sealed class SystemdNotifyService(
    SystemdNotifier notifier,
    IHostApplicationLifetime lifetime,
    InstrumentStatus status,
    IResultPublisher publisher,
    PipelineHealth health,
    ServiceSettings settings,
    TimeProvider time,
    ILogger<SystemdNotifyService> logger) : BackgroundService
{
    private string? _lastStatus;
    private int _statusRequests;
    private int _statusSending;

    /// <summary>Overrides the environment's WATCHDOG_USEC (tests).</summary>
    public TimeSpan? WatchdogTimeout { get; init; } = SystemdEnvironment.WatchdogTimeout(Environment.GetEnvironmentVariable, Environment.ProcessId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled)
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        // EXTEND_TIMEOUT_USEC (sd_notify(3), systemd ≥ 236): the stop may take Health:StopTimeoutSeconds (validated up to
        // 120 s) plus 5 s to exit, even where that is more than the unit's TimeoutStopSec=45s, which would SIGKILL the drain.
        using var onStopping = lifetime.ApplicationStopping.Register(() => notifier.Notify(
            string.Create(CultureInfo.InvariantCulture, $"STOPPING=1\nSTATUS=stopping\nEXTEND_TIMEOUT_USEC={(settings.Health.StopTimeoutSeconds + 5) * 1_000_000L}")));
        await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
        notifier.Notify("READY=1\nSTATUS=" + SystemdNotifier.StatusLine(status.Describe(publisher.PendingCount)));
        _lastStatus = status.Describe(publisher.PendingCount);
        status.Changed += RequestStatus;
        try
        {
            if (WatchdogTimeout is not { } timeout)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken).ConfigureAwait(false);
                return;
            }

            // sd_watchdog_enabled(3): "send a keep-alive notification message … every half of the time returned".
            using var timer = new PeriodicTimer(timeout / 2, time);
            do
            {
                if (health.IsAlive(out string? problem))
                {
                    notifier.Notify("WATCHDOG=1");
                    RequestStatus();
                }
                else
                {
                    Log.WatchdogWithheld(logger, problem!);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            status.Changed -= RequestStatus;
        }
    }

    /// <summary>Asks for a STATUS= update without waiting for it: one sender at a time, and one more run for requests that arrive meanwhile.</summary>
    private void RequestStatus()
    {
        Interlocked.Increment(ref _statusRequests);
        if (Interlocked.CompareExchange(ref _statusSending, 1, 0) == 0)
        {
            _ = Task.Run(SendStatusLoop);
        }
    }

    private void SendStatusLoop()
    {
        do
        {
            Volatile.Write(ref _statusRequests, 0);
            try
            {
                string line = status.Describe(publisher.PendingCount);
                if (line != _lastStatus)
                {
                    _lastStatus = line;
                    notifier.Notify("STATUS=" + SystemdNotifier.StatusLine(line));
                }
            }
#pragma warning disable CA1031 // STATUS= is advisory (sd_notify(3)); an outbox that is closing or failing must not fault this task.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.StatusNotSent(logger, ex.Message);
            }

            Volatile.Write(ref _statusSending, 0);
        }
        while (Volatile.Read(ref _statusRequests) > 0 && Interlocked.CompareExchange(ref _statusSending, 1, 0) == 0);
    }
}

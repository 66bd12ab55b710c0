using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Transport;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Stores every result in the outbox (durable before the next is taken), logs detections, keeps per-scan element
/// tallies and stores each scan's summary. A store that fails (disk full, I/O error) is retried, never dropped, for as
/// long as the service runs: the last error says which result waits and why, the worker counts as waiting (so the
/// systemd watchdog does not restart the service and lose what is held in memory), and acquisition waits behind the
/// full channels. Once a stop is requested a failing store is given up after <see cref="StopRetryBudget"/> and the
/// lost result is logged (Critical 8062) by id. Ends when analysis completes the channel, then stops the publisher,
/// which sends what it can within the stop timeout; the rest stays in the outbox. Both budgets count from the moment
/// the stop was requested (ApplicationStopping, i.e. SIGTERM), not from when this stage gets to them, so the whole stop
/// stays inside Health:StopTimeoutSeconds however long the stages upstream and the last stores took. An outbox that
/// became damaged while running (<see cref="OutboxCorruptException"/>: SQLITE_CORRUPT/SQLITE_NOTADB) is not retried,
/// because waiting cannot repair it: it is logged Critical (8069) naming the file, the publishing stage is marked
/// crashed (so the process exits 1 and systemd's Restart=on-failure restarts it, and the start-up moves the file aside
/// and salvages its rows) and the host is stopped, also when the drain found the damage while no result was stored.
/// Every result that reaches this stage after that is tried once and, if it cannot be stored, logged LOST by id
/// (8062), like the scan points still in memory (8063). Any other exception from a store (e.g. an ArgumentException
/// while building one result's payload) is taken as specific to that item: not retried, logged LOST by id (Critical
/// 8072, with the error) and in the last error, and the stage goes on with the next item. Each item, stored or given
/// up, ends its live work on the <see cref="LiveWorkGate"/>, which gives the re-analysis its turn.
/// </summary>
internal sealed class PublishingWorker(
    IResultPublisher publisher,
    PipelineChannels channels,
    InstrumentStatus status,
    PipelineHealth health,
    ServiceSettings settings,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ReanalysisWorker reanalysis,
    LiveWorkGate live,
    ILogger<PublishingWorker> logger) : DrainingBackgroundService
{
    private const string Worker = "publishing";
    private const long NotStopping = long.MinValue;
    private static readonly TimeSpan StoreBudget = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, Dictionary<string, long>> _scanTallies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _scanFailures = new(StringComparer.Ordinal);

    private CancellationToken _stopping;
    private int _outboxDamaged;
    private long _stopRequestedAt = NotStopping;

    /// <summary>
    /// Until when, counted from the stop request, the publisher may drain the outbox: Health:StopTimeoutSeconds less
    /// <see cref="StopReserve"/> for "offline", the disconnect and the rest of the shutdown.
    /// </summary>
    private TimeSpan DrainBudget => TimeSpan.FromSeconds(Math.Max(1, settings.Health.StopTimeoutSeconds - StopReserve.TotalSeconds));

    /// <summary>
    /// What the drain leaves of the stop budget, 7 s by default: the publisher's wait for the unanswered "offline" of a
    /// broker that stopped answering (<see cref="DetectionPublisher.DirectPublishWait"/>, 5 s), then the transport's
    /// disconnect timeout (<c>Mqtt:DisconnectTimeoutSeconds</c>, 2 s by default,
    /// <see cref="MqttTransportOptions.DefaultDisconnectTimeout"/>; a key since 2026-11-25) when its DISCONNECT cannot be
    /// written (full send buffer). With 5 s, as until 2026-11-24, such a stop could end 2 s after the host's
    /// ShutdownTimeout, which then disposed the outbox under the publisher's stop.
    /// </summary>
    internal static TimeSpan StopReserveFor(ServiceSettings settings) =>
        DetectionPublisher.DirectPublishWait + TimeSpan.FromSeconds(settings.Mqtt.DisconnectTimeoutSeconds);

    private TimeSpan StopReserve => StopReserveFor(settings);

    /// <summary>Until when, counted from the stop request, a failing store is still retried: half of <see cref="DrainBudget"/>.</summary>
    private TimeSpan StopRetryBudget => DrainBudget / 2;

    protected override Task RunStageAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        lifetime.ApplicationStopping.Register(MarkStopRequested);

        // Found by the drain or a health figure while no result is being stored: restart now, not at the next store,
        // which would then be lost. Not inline: the token may be cancelled on a thread that holds other locks.
        publisher.StorageDamaged.Register(() => _ = Task.Run(() =>
        {
            if (publisher.StorageDamage is { } damage)
            {
                OutboxDamaged(damage);
            }
        }));
        return Task.Run(RunAsync, CancellationToken.None);
    }

    /// <summary>Notes when the stop began (the first call wins): ApplicationStopping, else the first sign of it seen here.</summary>
    private void MarkStopRequested() => Interlocked.CompareExchange(ref _stopRequestedAt, time.GetTimestamp(), NotStopping);

    private TimeSpan SinceStopRequested()
    {
        MarkStopRequested();
        return time.GetElapsedTime(Interlocked.Read(ref _stopRequestedAt));
    }

    private async Task RunAsync()
    {
        var reader = channels.Results.Reader;
        try
        {
            health.Idle(Worker);
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    health.Busy(Worker, StoreBudget);
                    try
                    {
                        switch (item)
                        {
                            case PipelineItem.Result r:
                                await StoreAsync(r.Measurement).ConfigureAwait(false);
                                break;
                            case PipelineItem.ScanEnded end:
                                await EndScanAsync(end).ConfigureAwait(false);
                                break;
                        }
                    }
                    finally
                    {
                        live.Exit();
                    }
                }

                health.Idle(Worker);
            }
        }
        catch (Exception ex)
        {
            Log.WorkerCrashed(logger, ex, Worker);
            health.Dead(Worker, ex.Message);
            status.SetState(ServiceState.Fault, ex.Message);
            throw;
        }
        finally
        {
            health.Finished(Worker);
            var left = DrainBudget - SinceStopRequested();
            using var timeout = left > TimeSpan.Zero ? new CancellationTokenSource(left, time) : new CancellationTokenSource();
            if (left <= TimeSpan.Zero)
            {
                // Spent on the last stores: the publisher skips the drain and goes straight to "offline" and disconnect.
                await timeout.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await publisher.StopAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Time is up: what was not sent stays in the outbox for the next start.
            }

            long? pending = null;
            try
            {
                pending = publisher.PendingCount;
            }
            catch (IOException) when (Volatile.Read(ref _outboxDamaged) != 0)
            {
                // A damaged outbox cannot be counted; 8069 already said what happens to it.
            }

            if (pending is { } count)
            {
                Log.Stopped(logger, count);
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="store"/> until it succeeds. Returns false only when a stop was requested and the store still
    /// failed after <see cref="StopRetryBudget"/>: the item is then lost, and logged as such.
    /// </summary>
    private async Task<bool> StoreWithRetryAsync(string what, Func<ValueTask> store)
    {
        string? retrying = null;
        for (int attempt = 1; ; attempt++)
        {
            health.Busy(Worker, StoreBudget);
            try
            {
                await store().ConfigureAwait(false);
                if (attempt > 1)
                {
                    Log.StoreRecovered(logger, what, attempt);

                    // "… not stored yet, retrying" is no longer true: cleared unless a later error replaced it (until
                    // 2026-11-24 it stayed in the retained status after the store had succeeded).
                    if (retrying is not null)
                    {
                        status.Recovered(retrying);
                    }
                }

                return true;
            }
            catch (OutboxCorruptException ex)
            {
                // Damage does not pass like a full disk: retrying would hold this result (and stop measuring) for good.
                OutboxDamaged(ex);
                Log.StoreGivenUp(logger, what, attempt, ex.Message);
                status.SetError($"{what} was not stored (outbox damaged, service restarting): {ex.Message}");
                return false;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                bool stopping = _stopping.IsCancellationRequested;
                if (stopping && SinceStopRequested() >= StopRetryBudget)
                {
                    Log.StoreGivenUp(logger, what, attempt, ex.Message);
                    status.SetError($"{what} was not stored (service stopping): {ex.Message}");
                    return false;
                }

                Log.StoreFailed(logger, what, ex.Message);
                if (attempt == 1)
                {
                    retrying = $"{what} not stored yet, retrying: {ex.Message}";
                    status.SetError(retrying);
                }

                // Waiting for storage is not a stall: the status says why, and a watchdog restart would lose what is held.
                health.Idle(Worker);
                try
                {
                    await Task.Delay(stopping ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(Math.Min(MaxRetryDelay.TotalSeconds, attempt)), time, stopping ? CancellationToken.None : _stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // A stop was requested while waiting: try again now, then on the shorter stop schedule.
                }
            }
#pragma warning disable CA1031 // Whatever else a store throws concerns this item; one odd result must not fault the instrument.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Not storage (IOException, InvalidOperationException above) and not damage: an error in this item
                // itself, e.g. an ArgumentException while building its payload, which every retry would meet again.
                // Before 2026-11-23 it ended this stage and put the whole instrument in fault.
                Log.StoreFailedForItem(logger, ex, what, ex.GetType().Name, ex.Message);
                status.SetError($"{what} was not stored ({ex.GetType().Name}, not retried): {ex.Message}");
                return false;
            }
        }
    }

    /// <summary>
    /// The first time a store finds the outbox damaged: says so (Critical 8069), marks this stage crashed so that the
    /// process exits non-zero, and stops the host; systemd restarts the service, whose start-up moves the file aside.
    /// </summary>
    private void OutboxDamaged(OutboxCorruptException error)
    {
        if (Interlocked.Exchange(ref _outboxDamaged, 1) != 0)
        {
            return;
        }

        Log.OutboxDamaged(logger, error.DatabasePath ?? settings.Outbox.Path, error.Message);
        health.Dead(Worker, "outbox damaged: " + error.Message);
        status.SetState(ServiceState.Fault, "outbox damaged, service restarting: " + error.Message);
        lifetime.StopApplication();
    }

    private async Task StoreAsync(MeasurementResult result)
    {
        if (!await StoreWithRetryAsync("result " + result.MeasurementId, () => publisher.StoreAsync(result, CancellationToken.None)).ConfigureAwait(false))
        {
            return;
        }

        reanalysis.Stored(result);
        if (result.Outcome == MeasurementOutcome.Completed)
        {
            status.CountCompleted();
        }

        if (result.ScanId is { } scan)
        {
            if (result.Outcome != MeasurementOutcome.Completed)
            {
                _scanFailures[scan] = _scanFailures.GetValueOrDefault(scan) + 1;
            }

            if (!_scanTallies.TryGetValue(scan, out var tally))
            {
                _scanTallies[scan] = tally = new Dictionary<string, long>(StringComparer.Ordinal);
            }

            foreach (var element in result.Identification?.Elements ?? [])
            {
                tally[element.Symbol] = tally.GetValueOrDefault(element.Symbol) + 1;
            }

            return;
        }

        if (result.Identification is { } identification)
        {
            string elements = identification.Elements.Count == 0
                ? "none"
                : string.Join(", ", identification.Elements.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Symbol} {e.Probability:F2}")));
            Log.Detections(logger, result.MeasurementId, elements);
        }
    }

    private async Task EndScanAsync(PipelineItem.ScanEnded end)
    {
        var tally = _scanTallies.Remove(end.ScanId, out var t) ? t : new Dictionary<string, long>(StringComparer.Ordinal);
        long failed = _scanFailures.Remove(end.ScanId, out long f) ? f : 0;
        var summary = new ScanSummary(end.ScanId, end.Started, end.Ended, end.Points, failed, end.Aborted, tally);
        if (!await StoreWithRetryAsync("summary of scan " + end.ScanId, () => publisher.StoreScanSummaryAsync(summary, CancellationToken.None)).ConfigureAwait(false))
        {
            return;
        }

        reanalysis.ScanStored(summary);

        // Through the whole service: from the scan's first acquisition to its last point committed here.
        double seconds = Math.Max(1e-9, (time.GetUtcNow() - end.Started).TotalSeconds);
        Log.ScanEnded(logger, end.ScanId, end.Points, seconds, end.Points / seconds, end.Aborted ? " (aborted)" : "");
    }
}

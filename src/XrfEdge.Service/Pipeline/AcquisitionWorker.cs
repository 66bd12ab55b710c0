using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Runs measurements according to Acquisition:Mode and hands spectra to analysis. Before every measurement the
/// interlock must be closed; the X-ray warning is on exactly while the MCA acquires. When the service stops, the
/// running measurement is aborted and recorded as such, and the spectra channel is completed so that analysis and
/// publishing drain what is already queued.
/// </summary>
internal sealed class AcquisitionWorker(
    ISpectrumSource source,
    PipelineChannels channels,
    MeasurementControl control,
    InstrumentStatus status,
    IInstrumentIo io,
    PipelineHealth health,
    ServiceSettings settings,
    TimeProvider time,
    ILogger<AcquisitionWorker> logger) : BackgroundService
{
    private const string Worker = "acquisition";
    private readonly AcquisitionOptions _options = settings.Acquisition;
    private readonly EnergyCalibration _calibration = new(
        settings.Calibration.OffsetKeV, settings.Calibration.GainKeVPerChannel, settings.Calibration.QuadraticKeVPerChannel2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writer = channels.Spectra.Writer;
        try
        {
            if (_options.AutoStart)
            {
                control.RequestStart("auto-start");
            }

            bool exhausted = false;
            while (!stoppingToken.IsCancellationRequested && !exhausted)
            {
                health.Idle(Worker);
                var request = await control.WaitForStartAsync(stoppingToken).ConfigureAwait(false);

                // Read per start, not once: set_preset changes Acquisition:PresetSeconds while the service runs.
                var preset = request.Preset ?? TimeSpan.FromSeconds(_options.PresetSeconds);
                if (!io.InterlockClosed)
                {
                    request.Refuse("The interlock does not allow X-ray exposure now.");
                    control.ClearPendingStart("The interlock does not allow X-ray exposure now.");
                    status.SetError("measurement refused: interlock open");
                    Log.MeasurementRefused(logger, "interlock open");
                    continue;
                }

                if (_options.Mode != MeasurementMode.Triggered)
                {
                    control.RunStarted(_options.Mode == MeasurementMode.Scan ? "scan" : "continuous run");
                }

                try
                {
                    exhausted = _options.Mode switch
                    {
                        MeasurementMode.Scan => await ScanAsync(request, preset, writer, stoppingToken).ConfigureAwait(false),
                        _ => await MeasureLoopAsync(request, preset, writer, stoppingToken).ConfigureAwait(false),
                    };
                }
                finally
                {
                    control.RunEnded();
                }

                if (exhausted)
                {
                    request.Refuse("The spectrum source is exhausted; no measurement ran.");
                }
            }

            if (exhausted)
            {
                Log.SourceExhausted(logger, source.Description);
                health.Finished(Worker);
                await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: fall through to completing the channel.
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
            io.SetXrayWarning(false);
            health.Finished(Worker);
            writer.TryComplete();
        }
    }

    /// <summary>Triggered: one measurement. Continuous: measurements back to back while running. Returns true when the source is exhausted.</summary>
    private async Task<bool> MeasureLoopAsync(StartRequest request, TimeSpan preset, System.Threading.Channels.ChannelWriter<PipelineItem> writer, CancellationToken stoppingToken)
    {
        do
        {
            var (item, exhausted) = await MeasureOnceAsync(request, preset, null, null, stoppingToken).ConfigureAwait(false);
            if (exhausted)
            {
                return true;
            }

            await health.WriteAsync(Worker, writer, item!).ConfigureAwait(false);
            if (item is PipelineItem.Result)
            {
                break; // aborted or failed: a continuous loop waits for a new start
            }
        }
        while (_options.Mode == MeasurementMode.Continuous && control.Running && !stoppingToken.IsCancellationRequested && io.InterlockClosed);

        return false;
    }

    private async Task<bool> ScanAsync(StartRequest request, TimeSpan dwell, System.Threading.Channels.ChannelWriter<PipelineItem> writer, CancellationToken stoppingToken)
    {
        do
        {
            string scanId = "S-" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
            var started = time.GetUtcNow();
            Log.ScanStarted(logger, scanId, _options.ScanPoints, _options.PresetSeconds);
            long points = 0;
            bool aborted = false;
            bool exhausted = false;
            for (long index = 0; index < _options.ScanPoints; index++)
            {
                var (item, sourceExhausted) = await MeasureOnceAsync(request, dwell, scanId, index, stoppingToken).ConfigureAwait(false);
                if (sourceExhausted)
                {
                    exhausted = true;
                    break;
                }

                await health.WriteAsync(Worker, writer, item!).ConfigureAwait(false);
                points++;
                if (item is PipelineItem.Result)
                {
                    aborted = true;
                    break;
                }
            }

            io.SetXrayWarning(false);
            if (!aborted)
            {
                status.SetState(ServiceState.Idle);
            }

            await health.WriteAsync<PipelineItem>(Worker, writer, new PipelineItem.ScanEnded(scanId, started, time.GetUtcNow(), points, aborted)).ConfigureAwait(false);
            if (exhausted)
            {
                return true;
            }

            if (aborted)
            {
                return false;
            }
        }
        while (_options.AutoStart && control.Running && !stoppingToken.IsCancellationRequested);

        return false;
    }

    private async Task<(PipelineItem? Item, bool Exhausted)> MeasureOnceAsync(StartRequest request, TimeSpan preset, string? scanId, long? scanIndex, CancellationToken stoppingToken)
    {
        string id = "M-" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var started = time.GetUtcNow();
        var measurement = control.Begin(stoppingToken);
        if (scanId is null)
        {
            Log.MeasurementStarted(logger, id, request.Origin, preset.TotalSeconds);
        }

        bool single = scanId is null;
        if (single || scanIndex == 0)
        {
            status.SetState(ServiceState.Measuring);
            io.SetXrayWarning(true);
        }

        health.Busy(Worker, preset + TimeSpan.FromMilliseconds(_options.ReplyTimeoutMilliseconds * _options.MaxAttempts));
        RawSpectrum? spectrum;
        string? abortReason;
        try
        {
            spectrum = await source.AcquireAsync(id, preset, measurement.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (measurement.IsCancellationRequested)
        {
            io.SetXrayWarning(false); // first: the tube must not be signalled on once we stop
            abortReason = control.End(measurement) ?? "service stopping";
            Log.MeasurementAborted(logger, id, abortReason);
            status.CountAborted();
            status.SetState(ServiceState.Idle);
            return (new PipelineItem.Result(new MeasurementResult(id, _options.Mode, started, time.GetUtcNow(), null, null, MeasurementOutcome.Aborted, abortReason, scanId, scanIndex, preset, request)), false);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
        {
            io.SetXrayWarning(false);
            control.End(measurement);
            Log.MeasurementFailed(logger, id, ex.Message);
            status.CountFailed();
            status.SetState(ServiceState.Fault, ex.Message);
            return (new PipelineItem.Result(new MeasurementResult(id, _options.Mode, started, time.GetUtcNow(), null, null, MeasurementOutcome.Failed, ex.Message, scanId, scanIndex, preset, request)), false);
        }

        if (single)
        {
            io.SetXrayWarning(false);
        }

        abortReason = control.End(measurement);
        if (spectrum is null)
        {
            status.SetState(ServiceState.Idle);
            return (null, true);
        }

        if (abortReason is not null)
        {
            // The abort came as the MCA delivered: the preset was not reached for sure, so record it as aborted.
            status.CountAborted();
            status.SetState(ServiceState.Idle);
            return (new PipelineItem.Result(new MeasurementResult(id, _options.Mode, started, time.GetUtcNow(), spectrum, null, MeasurementOutcome.Aborted, abortReason, scanId, scanIndex, preset, request)), false);
        }

        if (settings.Calibration.Override)
        {
            spectrum = spectrum with { Calibration = _calibration };
        }

        if (single)
        {
            io.Beep();
            status.SetState(ServiceState.Idle);
        }

        return (new PipelineItem.Spectrum(new AcquiredSpectrum(id, _options.Mode, started, time.GetUtcNow(), spectrum, scanId, scanIndex, time.GetTimestamp(), preset, request)), false);
    }
}

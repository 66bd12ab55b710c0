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
    ILogger<AcquisitionWorker> logger) : DrainingBackgroundService
{
    private const string Worker = "acquisition";
    private readonly AcquisitionOptions _options = settings.Acquisition;
    private readonly EnergyCalibration _calibration = new(
        settings.Calibration.OffsetKeV, settings.Calibration.GainKeVPerChannel, settings.Calibration.QuadraticKeVPerChannel2);

    /// <summary>The start being served, answered if the worker crashes.</summary>
    private StartRequest? _request;

    /// <summary>Whether log 8028 (auto-start cancelled by a stop) has been written.</summary>
    private bool _autoStartCancellationLogged;

    protected override async Task RunStageAsync(CancellationToken stoppingToken)
    {
        var writer = channels.Spectra.Writer;
        try
        {
            if (_options.AutoStart)
            {
                await WaitForSourceAsync(stoppingToken).ConfigureAwait(false);
                if (!control.TryRequestAutoStart())
                {
                    LogAutoStartCancelledOnce(); // a stop cancelled it meanwhile, perhaps during the last connection try
                }
            }

            bool exhausted = false;
            while (!stoppingToken.IsCancellationRequested && !exhausted)
            {
                health.Idle(Worker);
                var request = await control.WaitForStartAsync(stoppingToken).ConfigureAwait(false);
                _request = request;

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

                control.RunStarted(_options.Mode switch
                {
                    MeasurementMode.Scan => "scan",
                    MeasurementMode.Continuous => "continuous run",
                    _ => "measurement",
                });
                bool ran;
                try
                {
                    (exhausted, ran) = _options.Mode switch
                    {
                        MeasurementMode.Scan => await ScanAsync(request, preset, writer, stoppingToken).ConfigureAwait(false),
                        _ => await MeasureLoopAsync(request, preset, writer, stoppingToken).ConfigureAwait(false),
                    };
                }
                finally
                {
                    control.RunEnded();
                }

                if (exhausted && !ran)
                {
                    // Only when nothing ran: otherwise the first result (or the scan summary) answers it.
                    request.Refuse("The spectrum source is exhausted; no measurement ran.");
                }

                _request = null;
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
            _request?.Refuse($"Acquisition stopped after a failure: {ex.Message}");
            throw;
        }
        finally
        {
            XrayWarningOff();
            health.Finished(Worker);
            writer.TryComplete();
        }
    }

    /// <summary>
    /// Shortest pause between two connection tries while the auto-start waits for its device: each try opens the port and
    /// sends a status request, and a profile's ReconnectDelayMilliseconds may be 0 (it is meant for a link that is merely
    /// re-enumerating); an absent DP5 is not worth more than one try a second.
    /// </summary>
    private static readonly TimeSpan MinAutoStartRetry = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Before the auto-start: waits until the source is connected, trying again every ReconnectDelayMilliseconds (at
    /// least 1 s). A DP5 not reachable at start-up leaves the service up in state fault; until 2026-11-24 the auto-start
    /// was spent on a measurement that failed for want of it, and an unattended Continuous or Scan profile whose DP5 was
    /// switched on after the service never measured (before that day start-up failed and systemd's restart auto-started
    /// once the DP5 answered). Any other source error ends the wait: the auto-started measurement then fails with it.
    /// A stop meanwhile cancels the auto-start (<see cref="MeasurementControl.RequestStop"/>; log 8028 at once), but not
    /// the wait: the service still connects when the DP5 comes, so the status leaves fault and a start given meanwhile
    /// runs then, as before; only the auto-start does not (until 2026-11-24 it did: an exposure the stop had refused).
    /// </summary>
    private async Task WaitForSourceAsync(CancellationToken stoppingToken)
    {
        var retry = TimeSpan.FromMilliseconds(_options.ReconnectDelayMilliseconds);
        retry = retry > MinAutoStartRetry ? retry : MinAutoStartRetry;
        while (true)
        {
            health.Idle(Worker);
            LogAutoStartCancelledOnce();

            try
            {
                if (await source.TryConnectAsync(stoppingToken).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return;
            }

            // Woken early by a stop that cancels the auto-start, so that the log says so at once (top of the loop).
            var delay = Task.Delay(retry, time, stoppingToken);
            await (_autoStartCancellationLogged ? delay : Task.WhenAny(delay, control.AutoStartCancelled)).ConfigureAwait(false);
            stoppingToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Logs 8028 the first time the auto-start is found cancelled by a stop.</summary>
    private void LogAutoStartCancelledOnce()
    {
        if (!_autoStartCancellationLogged && control.AutoStartCancelledBy is { } reason)
        {
            _autoStartCancellationLogged = true;
            Log.AutoStartCancelled(logger, reason, source.Description);
        }
    }

    private void Beep()
    {
        try
        {
            io.Beep();
        }
        catch (IOException ex)
        {
            Log.GpioOutputFailed(logger, "buzzer", ex.Message);
        }
    }

    /// <summary>
    /// Switches the X-ray warning off. A failing output (GPIO expander unplugged) is logged and shown as the last error
    /// but must not stop the pipeline from recording the result and draining: exposure has ended either way.
    /// </summary>
    private void XrayWarningOff()
    {
        try
        {
            io.SetXrayWarning(false);
        }
        catch (IOException ex)
        {
            Log.GpioOutputFailed(logger, "X-ray warning (switching off)", ex.Message);
            status.SetError("X-ray warning output failed: " + ex.Message);
        }
    }

    /// <summary>
    /// Triggered: one measurement. Continuous: measurements back to back while running. Returns whether the source is
    /// exhausted, and whether any measurement ran (its result answers the start).
    /// </summary>
    private async Task<(bool Exhausted, bool Ran)> MeasureLoopAsync(StartRequest request, TimeSpan preset, System.Threading.Channels.ChannelWriter<PipelineItem> writer, CancellationToken stoppingToken)
    {
        // A Continuous run keeps the X-ray warning on and the state measuring from its first preset to its end, as a
        // scan does (until 2026-11-24 both dropped between presets for the moment the next one took to begin).
        bool continuous = _options.Mode == MeasurementMode.Continuous;
        bool ran = false;
        bool endedByResult = false;
        try
        {
            do
            {
                var (item, exhausted) = await MeasureOnceAsync(request, preset, null, null, firstOfRun: !ran, endsRun: !continuous, stoppingToken).ConfigureAwait(false);
                if (exhausted)
                {
                    return (true, ran);
                }

                ran = true;
                await WriteDuringRunAsync(writer, item!, warningOn: continuous).ConfigureAwait(false);
                if (item is PipelineItem.Result)
                {
                    endedByResult = true; // aborted or failed (state already set): a continuous loop waits for a new start
                    break;
                }
            }
            while (continuous && control.Running && !stoppingToken.IsCancellationRequested);
        }
        finally
        {
            if (continuous)
            {
                XrayWarningOff();
            }
        }

        if (continuous && !endedByResult)
        {
            status.SetState(ServiceState.Idle); // a stop between presets (or the host stopping) ended the run
        }

        return (false, ran);
    }

    /// <summary>
    /// Hands a run's measurement on to the spectra channel. While a full channel holds it (analysis slower than the MCA:
    /// the run is slowed, not points lost), a stop or an opening interlock switches the X-ray warning off at once when the
    /// run keeps it on between measurements (<paramref name="warningOn"/>: a Continuous run, a scan); the item is still
    /// written, and the run's next measurement ends as aborted. Until 2026-11-24 the warning stayed on until a slot freed,
    /// for as long as a slow batch took. Only this worker switches the warning, so this cannot race a measurement's
    /// switching it on.
    /// </summary>
    private async Task WriteDuringRunAsync(System.Threading.Channels.ChannelWriter<PipelineItem> writer, PipelineItem item, bool warningOn)
    {
        var write = health.WriteAsync(Worker, writer, item);
        if (write.IsCompleted || !warningOn)
        {
            await write.ConfigureAwait(false);
            return;
        }

        var written = write.AsTask();
        if (await Task.WhenAny(written, control.PendingAbortArrived).ConfigureAwait(false) != written)
        {
            XrayWarningOff();
        }

        await written.ConfigureAwait(false);
    }

    /// <summary>Scans of Acquisition:ScanPoints points (back to back with AutoStart). Returns as <see cref="MeasureLoopAsync"/>.</summary>
    private async Task<(bool Exhausted, bool Ran)> ScanAsync(StartRequest request, TimeSpan dwell, System.Threading.Channels.ChannelWriter<PipelineItem> writer, CancellationToken stoppingToken)
    {
        bool ran = false;
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
                // Every point checks stop and interlock after it begins (MeasureOnceAsync): a stop or an opening
                // interlock while the scan waited between points (backpressure) ends the scan (lost until 2026-11).
                var (item, sourceExhausted) = await MeasureOnceAsync(request, dwell, scanId, index, firstOfRun: index == 0, endsRun: false, stoppingToken).ConfigureAwait(false);
                if (sourceExhausted)
                {
                    exhausted = true;
                    break;
                }

                ran = true;
                await WriteDuringRunAsync(writer, item!, warningOn: true).ConfigureAwait(false);
                points++;
                if (item is PipelineItem.Result)
                {
                    aborted = true;
                    break;
                }
            }

            XrayWarningOff();
            if (!aborted)
            {
                status.SetState(ServiceState.Idle);
            }

            // A scan cut short by an exhausted source is incomplete: its summary says aborted, not a finished scan.
            await health.WriteAsync<PipelineItem>(Worker, writer, new PipelineItem.ScanEnded(scanId, started, time.GetUtcNow(), points, aborted || exhausted)).ConfigureAwait(false);
            if (exhausted)
            {
                return (true, ran);
            }

            if (aborted)
            {
                return (false, ran);
            }
        }
        while (_options.AutoStart && control.Running && !stoppingToken.IsCancellationRequested);

        return (false, ran);
    }

    /// <summary>
    /// How long one measurement may keep the worker busy before the watchdog counts it as stalled (plus
    /// Health:StallSeconds): the preset, one request's time-outs (ReplyTimeoutMilliseconds × MaxAttempts), and one
    /// reopening of a lost link as the profile allows it (ReconnectAttempts × ReconnectDelayMilliseconds, the DP5
    /// session's and the SPI source's policy). Until 2026-11-24 the reopening was left out, so a pulled USB-serial
    /// adapter that the profile gives, say, 30 × 2 s to come back got the service killed by the watchdog mid-recovery.
    /// </summary>
    private TimeSpan BusyAllowance(TimeSpan preset) =>
        preset
        + TimeSpan.FromMilliseconds(_options.ReplyTimeoutMilliseconds * _options.MaxAttempts)
        + TimeSpan.FromMilliseconds(_options.ReconnectDelayMilliseconds * Math.Max(1, _options.ReconnectAttempts));

    /// <summary>
    /// One measurement. <paramref name="firstOfRun"/>: it switches the state to measuring and the X-ray warning on;
    /// <paramref name="endsRun"/> (a Triggered measurement): a completed one switches them back. In a Continuous run or a
    /// scan the loop does that at the run's end; an aborted or failed measurement always ends its run.
    /// </summary>
    private async Task<(PipelineItem? Item, bool Exhausted)> MeasureOnceAsync(StartRequest request, TimeSpan preset, string? scanId, long? scanIndex, bool firstOfRun, bool endsRun, CancellationToken stoppingToken)
    {
        string id = "M-" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var started = time.GetUtcNow();
        var measurement = control.Begin(stoppingToken);

        // Checked after Begin, so nothing that happened before it is lost: a stop or an interlock that opened while no
        // measurement was current (between scan points, between Continuous measurements, between taking the start and
        // here) had nothing to cancel. Begin's token is then cancelled at once and the measurement ends as aborted.
        if (!control.Running)
        {
            control.Abort(control.StopReason ?? "stop requested");
        }
        else if (!io.InterlockClosed)
        {
            control.Abort("interlock open");
        }

        if (scanId is null)
        {
            Log.MeasurementStarted(logger, id, request.Origin, preset.TotalSeconds);
        }

        health.Busy(Worker, BusyAllowance(preset));
        RawSpectrum? spectrum;
        string? abortReason;
        try
        {
            measurement.Token.ThrowIfCancellationRequested();
            if (firstOfRun)
            {
                status.SetState(ServiceState.Measuring);

                // Inside the try: a warning output that cannot be switched on fails the measurement before any exposure.
                io.SetXrayWarning(true);
            }

            spectrum = await source.AcquireAsync(id, preset, measurement.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (measurement.IsCancellationRequested)
        {
            XrayWarningOff(); // first: the tube must not be signalled on once we stop
            abortReason = control.End(measurement) ?? "service stopping";
            Log.MeasurementAborted(logger, id, abortReason);
            status.CountAborted();
            status.SetState(ServiceState.Idle);
            return (new PipelineItem.Result(new MeasurementResult(id, _options.Mode, started, time.GetUtcNow(), null, null, MeasurementOutcome.Aborted, abortReason, scanId, scanIndex, preset, request)), false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !measurement.IsCancellationRequested)
        {
            // Any source error is this measurement's failure, recorded and answered; the instrument stays up for the
            // next start (until 2026-11 an exception outside a short list ended acquisition with the start unanswered).
            XrayWarningOff();
            control.End(measurement);
            if (ex is IOException or TimeoutException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException)
            {
                Log.MeasurementFailed(logger, id, ex.Message);
            }
            else
            {
                Log.MeasurementFailedUnexpectedly(logger, ex, id);
            }

            status.CountFailed();
            status.SetState(ServiceState.Fault, ex.Message);
            return (new PipelineItem.Result(new MeasurementResult(id, _options.Mode, started, time.GetUtcNow(), null, null, MeasurementOutcome.Failed, ex.Message, scanId, scanIndex, preset, request)), false);
        }

        abortReason = control.End(measurement);
        if (endsRun || abortReason is not null)
        {
            // An abort that came as the MCA delivered ends the run too (Continuous, scan): the warning goes off before the
            // state reads idle and before the result is queued, as on every other abort. Until 2026-11-24 a Continuous run
            // or a scan left it on behind an idle status until the aborted result had been written to a channel that a
            // full analysis batch can hold for seconds.
            XrayWarningOff();
        }
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

        if (_options.TubeAnode is { } anode && spectrum.Excitation?.Anode is null)
        {
            // The analysis must know the tube to leave its scattered lines unassessed; the spectrum records it too.
            spectrum = spectrum with { Excitation = spectrum.Excitation is { } stated ? stated with { Anode = anode } : new Excitation(anode, null, null) };
        }

        if (_options.TubeVoltageKilovolts is { } kilovolts && spectrum.Excitation?.TubeVoltageKilovolts is null)
        {
            // The decoder leaves out lines the tube cannot excite; a spectrum that states its own voltage keeps it.
            spectrum = spectrum with { Excitation = spectrum.Excitation is { } stated ? stated with { TubeVoltageKilovolts = kilovolts } : new Excitation(null, kilovolts, null) };
        }

        if (scanId is null)
        {
            Beep(); // each measurement of a Continuous run too; not each scan point
        }

        if (endsRun)
        {
            status.SetState(ServiceState.Idle);
        }

        return (new PipelineItem.Spectrum(new AcquiredSpectrum(id, _options.Mode, started, time.GetUtcNow(), spectrum, scanId, scanIndex, time.GetTimestamp(), preset, request)), false);
    }
}

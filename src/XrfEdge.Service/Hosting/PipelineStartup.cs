using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// Local start-up, registered first so it runs before the workers: watch the interlock (an auto-started run may
/// expose before the host has started), open the outbox/publisher and the spectrum
/// source (one that cannot reach its device yet, <see cref="SourceNotConnectedException"/>, leaves the state Fault
/// with the reason and start-up goes on; the model was tried when the analyzer was constructed: loaded, or refused and
/// shown as the status's model problem while the service measures without analysis, <see cref="ModelSlot"/>). When every hosted service has started the
/// host raises ApplicationStarted: the state becomes Idle and the trigger is watched. On ApplicationStopping the
/// running measurement is aborted before anything else stops; the X-ray warning goes off once it has ended.
/// </summary>
internal sealed class PipelineStartup(
    ISpectrumSource source,
    ModelSlot analyzer,
    IResultPublisher publisher,
    IInstrumentIo io,
    MeasurementControl control,
    InstrumentStatus status,
    ServiceIdentity identity,
    ServiceSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<PipelineStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        io.WatchInterlock(control, status); // first: an auto-started run may expose before ApplicationStarted
        identity.Model = analyzer.Model;
        status.SetModelProblem(analyzer.Problem);
        await publisher.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await source.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SourceNotConnectedException e)
        {
            // The device may come later (switched on, plugged in): an exit here made systemd restart the service until
            // its start limit, and then the analyser stayed down for good. Run, show the fault, connect per measurement.
            Log.SourceNotConnected(logger, e.Message);
            status.ReportFault(e.Message);

            // Once it has connected the message ("not reachable … Each measurement tries to connect again") is no
            // longer true: cleared with the fault it caused, unless a later error has replaced it. Until 2026-11-24 it
            // stayed in the retained status's last_error for as long as the service ran.
            source.ConnectedLate += () => Log.SourceConnectedLate(
                logger,
                source.Description,
                status.Recovered(e.Message)
                    ? "the start-up error is cleared from last_error and the state"
                    : "a later error replaced the start-up one in last_error, and stays");
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            io.Start(control, status);
            status.LeaveStarting(); // not SetState(Idle): an auto-started run may already be measuring
            using var process = Process.GetCurrentProcess();
            double elapsed = (DateTime.Now - process.StartTime).TotalMilliseconds;
            if (analyzer.Model is { } model)
            {
                Log.Ready(logger, elapsed, model.Name, model.Version, model.Precision, settings.Outbox.Path);
            }
            else
            {
                Log.ReadyWithoutModel(logger, elapsed, settings.Model.Path, settings.Outbox.Path);
            }

            if (settings.Health.TrimMemoryAfterStartup)
            {
                // Off the start-up path: READY is not delayed by the collection and the page-out.
                _ = Task.Run(() =>
                {
                    var (before, after, mappings) = StartupMemoryTrim.Trim();
                    Log.MemoryTrimmed(logger, before, after, mappings);
                });
            }
        });
        lifetime.ApplicationStopping.Register(() =>
        {
            // The X-ray warning is not switched off here: it goes off when the aborted exposure has ended
            // (AcquisitionWorker), and with the GPIO lines at disposal. Until 2026-11-24 it went off first, while the MCA
            // was still being stopped, and an output that failed to switch threw before the stop was requested.
            Log.Stopping(logger);
            status.SetState(ServiceState.Stopping);
            control.RequestStop("service stopping");
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Inference.Native;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Identifies spectra: waits for the first, then takes every further spectrum already queued (up to
/// Model:MaxBatchSize) and encodes them in one call — one spectrum at a time when measurements are slow, large
/// batches when a scan streams. Order is kept: an aborted result or a scan end is passed on only after the spectra
/// before it. It ignores the stopping token on purpose and ends when acquisition completes the channel, so nothing
/// already acquired is lost on a graceful stop. Every item it takes is marked live work on the <see cref="LiveWorkGate"/>
/// (until the publishing stage has stored it), so that the re-analysis of stored measurements waits for it.
/// </summary>
internal sealed class AnalysisWorker(
    ISpectrumAnalyzer analyzer,
    PipelineChannels channels,
    LiveWorkGate live,
    InstrumentStatus status,
    PipelineHealth health,
    ServiceSettings settings,
    ILogger<AnalysisWorker> logger) : DrainingBackgroundService
{
    private const string Worker = "analysis";

    /// <summary>How the reason of a result whose analysis failed starts (then the error's message).</summary>
    public const string FailedReasonPrefix = "analysis failed: ";

    /// <summary>Expected time for one batch; generous because the first call includes ONNX Runtime's warm-up.</summary>
    private static readonly TimeSpan BatchBudget = TimeSpan.FromSeconds(5);

    protected override Task RunStageAsync(CancellationToken stoppingToken) => Task.Run(RunAsync, CancellationToken.None);

    private async Task RunAsync()
    {
        var reader = channels.Spectra.Reader;
        var writer = channels.Results.Writer;
        int maxBatch = settings.Model.MaxBatchSize;
        var batch = new List<AcquiredSpectrum>(maxBatch);
        var spectra = new List<RawSpectrum>(maxBatch);
        try
        {
            health.Idle(Worker);
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    live.Enter();
                    if (item is PipelineItem.Spectrum s)
                    {
                        batch.Add(s.Acquired);
                        if (batch.Count < maxBatch)
                        {
                            continue;
                        }
                    }

                    await FlushAsync(batch, spectra, writer).ConfigureAwait(false);
                    if (item is not PipelineItem.Spectrum)
                    {
                        await health.WriteAsync(Worker, writer, item).ConfigureAwait(false);
                    }
                }

                await FlushAsync(batch, spectra, writer).ConfigureAwait(false);
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
            writer.TryComplete();
        }
    }

    private async Task FlushAsync(List<AcquiredSpectrum> batch, List<RawSpectrum> spectra, System.Threading.Channels.ChannelWriter<PipelineItem> writer)
    {
        if (batch.Count == 0)
        {
            return;
        }

        health.Busy(Worker, BatchBudget);
        spectra.Clear();
        foreach (var acquired in batch)
        {
            spectra.Add(acquired.Spectrum);
        }

        IReadOnlyList<Spectra.Identification.Identification>? identifications = null;
        string? error = null;
        try
        {
            identifications = analyzer.Identify(spectra);
            if (identifications.Count != batch.Count)
            {
                error = $"the analyzer returned {identifications.Count} results for {batch.Count} spectra";
                identifications = null;
            }
        }
        // OnnxRuntimeException: ORT's Run failed for this batch (allocation, kernel error). The batch fails with its spectra
        // kept for re-analysis; it used to kill the stage, lose the measured spectra and stop the service.
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or InvalidDataException or IOException or OnnxRuntimeException)
        {
            error = ex.Message;
        }

        if (error is not null)
        {
            Log.AnalysisFailed(logger, batch.Count, error);
            status.ReportFault("analysis failed: " + error);
        }

        for (int i = 0; i < batch.Count; i++)
        {
            var a = batch[i];
            var result = identifications is null
                ? new MeasurementResult(a.MeasurementId, a.Mode, a.Started, a.Ended, a.Spectrum, null, MeasurementOutcome.Failed, FailedReasonPrefix + error, a.ScanId, a.ScanIndex, a.Preset, a.Request)
                : new MeasurementResult(a.MeasurementId, a.Mode, a.Started, a.Ended, a.Spectrum, identifications[i], MeasurementOutcome.Completed, null, a.ScanId, a.ScanIndex, a.Preset, a.Request);
            await health.WriteAsync<PipelineItem>(Worker, writer, new PipelineItem.Result(result)).ConfigureAwait(false);
        }

        batch.Clear();
        health.Idle(Worker);
    }
}

using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Inference.Native;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Service.Options;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Analyses the measurements that were stored without analysis because no model was loaded (their stored event's
/// reason starts with <see cref="ReasonPrefix"/>), once a model is: when the <see cref="ModelSlot"/> loads one after a
/// refusal, and at start-up with a model (measurements of an earlier run, e.g. before install.sh put a good model in
/// place). Measurements whose analysis ONNX Runtime failed (<see cref="RuntimeFailurePrefix"/>: an allocation or kernel
/// error, which says nothing about the spectrum) are taken too, by the same passes and by one that the next measurement
/// analysed after such a failure starts (<see cref="Stored"/>): until 2026-11-24 they kept "analysis failed" for good. Each becomes the detection the operator would have had — same measurement id, acquisition times, preset and
/// sample id, <c>"reanalysed": true</c> — which replaces its stored event in one transaction and is published through
/// the outbox, so nothing measured during a model outage stays without its elements. Only stored spectra are
/// analysed (the results table keeps them up to <c>Outbox:ResultRetention</c>). Scan points that failed for the same
/// reasons are stored with their chunk since 2026-11-24 and taken by the same passes (and by one that the scan's stored
/// summary starts, <see cref="ScanStored"/>): each turn's points of one scan become one <c>scans/points</c> chunk with
/// <c>"reanalysed": true</c> that replaces their stored events in one transaction. The live measurement goes first: each batch of at most <see cref="RowsPerTurn"/> rows waits for its
/// turn on the <see cref="LiveWorkGate"/> (at once while nothing live is in the pipeline, else until the next live item
/// is stored), holding neither the outbox nor the encoder while it waits, so a live measurement waits for at most one
/// batch. Before 2026-11-24 a pass ran flat out in batches of <c>Model:MaxBatchSize</c> (256) beside
/// the live pipeline, and the operator waited longer for the elements on screen.
/// </summary>
internal sealed class ReanalysisWorker(ModelSlot slot, IResultPublisher publisher, LiveWorkGate live, ServiceSettings settings, ILogger<ReanalysisWorker> logger) : BackgroundService
{
    /// <summary>The stored reason of a measurement analysed while no model was loaded.</summary>
    public const string ReasonPrefix = AnalysisWorker.FailedReasonPrefix + ModelUnavailableException.MessagePrefix;

    /// <summary>The stored reason of a measurement whose analysis ONNX Runtime failed (<see cref="OnnxRuntimeException"/>).</summary>
    public const string RuntimeFailurePrefix = AnalysisWorker.FailedReasonPrefix + OnnxRuntimeException.MessagePrefix;

    /// <summary>
    /// Rows analysed and stored per turn (fewer when <c>Model:MaxBatchSize</c> is smaller). Each row is its own
    /// fsync'd commit (a turn's scan points of one scan share one), and a live result that arrives during a batch waits for that batch's commits on the outbox's
    /// lock; encoding is ≈ 80 µs per spectrum, so large batches save little: a pass of 10,000 rows on the development VM
    /// took 5.9–6.3 s in batches of 256 and 6.2–6.8 s in turns of 4 beside live measurements every 100 ms
    /// (docs/PERFORMANCE.md, "Re-analysis beside live measurements"). 4 commits are a few ms there and, at the tens of
    /// ms an SD card may take per fsync, still well under a second.
    /// </summary>
    public const int RowsPerTurn = 4;

    private readonly SemaphoreSlim _due = new(0, 1);

    // 1: a measurement failed by ONNX Runtime was stored and no pass has taken it since: the next analysis that works
    // starts one. A pass takes the mark as it starts and gives it back if ONNX Runtime failed it too (Interlocked, so
    // that a mark set by the publishing stage between the two is never lost).
    private int _runtimeFailureStored;

    // 1: a scan point that a model could analyse later was handed to the publisher; it is committed with its chunk,
    // at the latest with the scan's summary, which then starts a pass (ScanStored).
    private int _scanFailureStored;

    // 1: a pass stopped because the outbox refused its results (the queue past the 3/4 of Outbox:MaxMegabytes a
    // re-analysis may fill, or a full disk): the next rows leaving the queue start another (RoomMade). Cleared as any
    // pass starts (since 2026-11-24, review).
    private int _awaitingRoom;

    /// <summary>Whether a refused pass waits for delivered rows to make room (<see cref="RoomMade"/>); for tests.</summary>
    internal bool AwaitingRoom => Volatile.Read(ref _awaitingRoom) == 1;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before ExecuteAsync runs (it may start later on the thread pool), so that no load is missed.
        slot.Loaded += Signal;
        publisher.ReanalysisRoomMade += RoomMade;
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        slot.Loaded -= Signal;
        publisher.ReanalysisRoomMade -= RoomMade;
        _due.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (slot.Model is not null)
        {
            Signal(); // stored by an earlier run
        }

        try
        {
            while (true)
            {
                await _due.WaitAsync(stoppingToken).ConfigureAwait(false);
                await Task.Run(() => PassAsync(stoppingToken), stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Told by the publishing stage after it stored <paramref name="result"/>. A failure for want of a model stored while a
    /// model is loaded was analysed before the load and committed after it (it was in the results channel, or its store
    /// was slow or retried), possibly after the load's pass had read the table: another pass takes it, instead of the
    /// next restart (the model stays loaded, so no later load comes).
    /// </summary>
    /// <remarks>
    /// A measurement ONNX Runtime failed on is taken by the pass that the next measurement analysed without failure starts
    /// (the encoder works again), not at once: the failure that stopped it is likely still there.
    /// </remarks>
    public void Stored(MeasurementResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result is { Outcome: MeasurementOutcome.Failed, ScanId: not null, Spectrum: not null } && result.Reason is { } pointReason
            && (pointReason.StartsWith(ReasonPrefix, StringComparison.Ordinal) || pointReason.StartsWith(RuntimeFailurePrefix, StringComparison.Ordinal)))
        {
            // Not committed yet (it waits in its chunk): the scan's summary starts the pass (ScanStored).
            Volatile.Write(ref _scanFailureStored, 1);
        }
        // Results without a spectrum are not stored as results, so they are not re-analysed.
        else if (result is { Outcome: MeasurementOutcome.Failed, ScanId: null, Spectrum: not null } && result.Reason is { } reason)
        {
            if (reason.StartsWith(ReasonPrefix, StringComparison.Ordinal) && slot.Model is not null)
            {
                Signal();
            }
            else if (reason.StartsWith(RuntimeFailurePrefix, StringComparison.Ordinal))
            {
                Volatile.Write(ref _runtimeFailureStored, 1);
            }
        }
        else if (result.Outcome == MeasurementOutcome.Completed && Volatile.Read(ref _runtimeFailureStored) == 1 && Interlocked.Exchange(ref _runtimeFailureStored, 0) == 1)
        {
            Signal();
        }
    }

    /// <summary>
    /// Told by the publishing stage after it stored a scan's summary, and with it every point of the scan: if points
    /// failed for want of a model or by ONNX Runtime and a model is loaded, a pass takes them now (without a model, the
    /// load's pass does). The pass also holds the ONNX Runtime mark, so that if it fails on them too, the next analysis
    /// that works starts another.
    /// </summary>
    public void ScanStored(ScanSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        if (Volatile.Read(ref _scanFailureStored) == 1 && Interlocked.Exchange(ref _scanFailureStored, 0) == 1 && slot.Model is not null)
        {
            Volatile.Write(ref _runtimeFailureStored, 1);
            Signal();
        }
    }

    /// <summary>
    /// Raised by the outbox when delivered (expired, dead-lettered) rows leave the queue within the share a re-analysis
    /// may fill: a pass the queue refused runs again now. Until 2026-11-24 it waited for the next trigger (a model load,
    /// a start, a failure stored), so an instrument offline all day drained its queue when it came back and then sat with
    /// the rows unanalysed until the operator measured again. Chosen over a periodic retry: it runs as soon as the queue
    /// has room, and never while it has none (a retry analyses a turn's spectra only to be refused again).
    /// </summary>
    private void RoomMade(object? sender, EventArgs e)
    {
        if (Volatile.Read(ref _awaitingRoom) == 1 && slot.Model is not null && Interlocked.Exchange(ref _awaitingRoom, 0) == 1)
        {
            Signal();
        }
    }

    private void Signal()
    {
        try
        {
            _due.Release();
        }
        catch (SemaphoreFullException)
        {
            // A pass is due already; it reads from the start of the table.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>One pass over the stored results, oldest first.</summary>
    private async Task PassAsync(CancellationToken stoppingToken)
    {
        int batchSize = Math.Min(settings.Model.MaxBatchSize, RowsPerTurn);
        long after = 0;
        int done = 0, skipped = 0, runtimeFailures = 0;

        // This pass reads every stored one. If ONNX Runtime fails it too (the encoder fails again, or still: a pass due
        // since a working analysis may start after another failure), the mark goes back, so that the next analysis that
        // works starts another pass; until 2026-11-24 it was lost and they waited for the next restart. Only a mark
        // taken here goes back: a pass started by a working analysis (which took it) and failed leaves none, so a
        // spectrum ONNX Runtime always fails on starts no pass after every measurement.
        bool marked = Interlocked.Exchange(ref _runtimeFailureStored, 0) == 1;

        // This pass reads the rows a refused one left, whatever started it: until 2026-11-24 (review) a pass started by
        // something else kept the mark, and the next delivery started one more pass that found nothing. A refusal of
        // this pass sets it again (below).
        Volatile.Write(ref _awaitingRoom, 0);
        bool runtimeFailed = false;
        long roomMadeBefore = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Before the read, so that a wait holds nothing: the rows stay stored as they are until their turn, and
                // a stop while waiting ends the pass at once (OperationCanceledException) with nothing lost.
                await live.WaitForTurnAsync(stoppingToken).ConfigureAwait(false);
                roomMadeBefore = publisher.ReanalysisRoomMadeCount;
                var rows = publisher.ReadIncompleteMeasurements(after, batchSize);
                if (rows.Count == 0)
                {
                    break;
                }

                after = rows[^1].RowId;
                var batch = new List<Pending>(rows.Count);
                foreach (var row in rows)
                {
                    if (Parse(row, out string? problem) is { } pending)
                    {
                        batch.Add(pending);
                    }
                    else if (problem is not null)
                    {
                        skipped++;
                        Log.ReanalysisSkipped(logger, row.MeasurementId, problem);
                    }
                }

                if (batch.Count > 0)
                {
                    IReadOnlyList<Identification>? identifications = null;
                    try
                    {
                        identifications = slot.Identify([.. batch.Select(p => p.Spectrum)]);
                    }
                    catch (OnnxRuntimeException)
                    {
                        // Row by row below: one spectrum ONNX Runtime fails on must not keep the rows after it from their
                        // analysis at every pass.
                    }

                    var points = new List<ReanalysedScanPoint>();
                    for (int i = 0; i < batch.Count; i++)
                    {
                        var p = batch[i];
                        Identification identification;
                        try
                        {
                            identification = identifications?[i] ?? slot.Identify([p.Spectrum])[0];
                        }
                        catch (OnnxRuntimeException ex)
                        {
                            // A spectrum ONNX Runtime fails on alone is skipped and left stored as it is. Once a turn's worth
                            // have failed in a row, a plain spectrum on the same channels tells whether the encoder runs at
                            // all: if not, the pass stops (below) with the rest stored; if so, those spectra are the cause
                            // and the pass goes on (until 2026-11-24 four such rows in a row stopped every pass at them).
                            if (++runtimeFailures >= RowsPerTurn)
                            {
                                if (!EncoderRuns(p.Spectrum))
                                {
                                    throw;
                                }

                                runtimeFailures = 0;
                            }

                            runtimeFailed = true;
                            skipped++;
                            Log.ReanalysisSkipped(logger, p.Id, ex.Message + " (left stored as it is)");
                            continue;
                        }

                        runtimeFailures = 0;
                        if (p.ScanId is { } scanId)
                        {
                            points.Add(new ReanalysedScanPoint(p.Id, scanId, p.ScanIndex, p.Spectrum, identification)); // one commit per scan, below
                            continue;
                        }

                        await publisher.StoreReanalysedAsync(new ReanalysedMeasurement(p.Id, p.Spectrum, identification, p.Started, p.Ended, p.Preset, p.SampleId), stoppingToken).ConfigureAwait(false);
                        done++;
                        Log.Reanalysed(logger, p.Id, p.Started, identification.Elements.Count == 0 ? "no element" : string.Join(", ", identification.Elements.Select(e => e.Symbol)));
                    }

                    // The turn's points of each scan in one chunk and one commit, as the live chunks are.
                    foreach (var scan in points.GroupBy(p => p.ScanId, StringComparer.Ordinal))
                    {
                        // Only the points published: one whose row was pruned meanwhile is not (until 2026-11-24 logged as if).
                        var published = await publisher.StoreReanalysedScanPointsAsync([.. scan], stoppingToken).ConfigureAwait(false);
                        done += published.Count;
                        if (published.Count > 0)
                        {
                            Log.ScanPointsReanalysed(logger, published.Count, scan.Key, string.Join(", ", published));
                        }
                    }
                }

                // A short read was the table's end: done, without waiting for another turn only to read nothing. A failure
                // for want of a model stored after this read starts another pass (Stored).
                if (rows.Count < batchSize)
                {
                    break;
                }
            }
        }
        // The model went away again, ORT failed, or the outbox could not store (full disk, damage, closing): stop this
        // pass; the rest stay stored as they are and are taken at the next load or start, or (the outbox refused them:
        // the queue past its re-analysis share, a full disk) once delivered rows make room (RoomMade, since 2026-11-24). Anything else too: this is a
        // background chore, and an exception leaving ExecuteAsync would stop the host, the instrument with it.
#pragma warning disable CA1031 // See above: no failure of a re-analysis may stop the instrument.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            runtimeFailed |= ex is OnnxRuntimeException;
            Log.ReanalysisStopped(logger, done, ex.Message);
            if (ex is IOException { InnerException: OutboxFullException })
            {
                // The next rows leaving the queue start another pass (RoomMade); rows that left it since this turn began
                // raised their event before the mark was set, so they start it here.
                Volatile.Write(ref _awaitingRoom, 1);
                if (publisher.ReanalysisRoomMadeCount != roomMadeBefore && Interlocked.Exchange(ref _awaitingRoom, 0) == 1)
                {
                    Signal();
                }
            }

            return;
        }
        finally
        {
            if (marked && runtimeFailed)
            {
                Volatile.Write(ref _runtimeFailureStored, 1);
            }
        }

        if (done > 0 || skipped > 0)
        {
            Log.ReanalysisDone(logger, done, skipped);
        }
        else
        {
            Log.ReanalysisNothing(logger);
        }
    }

    /// <summary>
    /// Whether the encoder runs on a plain spectrum (one count in each channel) with <paramref name="like"/>'s channels and
    /// calibration: false when ONNX Runtime fails on that too.
    /// </summary>
    private bool EncoderRuns(Spectra.RawSpectrum like)
    {
        long[] counts = new long[like.Counts.Length];
        Array.Fill(counts, 1L);
        try
        {
            slot.Identify([like with { Id = "reanalysis-encoder-check", Counts = counts }]);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }

    /// <summary>
    /// The stored measurement, if it was stored for want of a model or after an ONNX Runtime failure; null with a
    /// <paramref name="problem"/> when it should be but cannot be read, null without one when it is another kind of
    /// incomplete measurement (aborted, another failure).
    /// </summary>
    private static Pending? Parse(StoredIncompleteMeasurement row, out string? problem)
    {
        problem = null;
        try
        {
            using var json = JsonDocument.Parse(row.Event);
            var root = json.RootElement;
            if (root.GetProperty("outcome").GetString() != "failed"
                || root.GetProperty("reason").GetString() is not { } reason
                || !(reason.StartsWith(ReasonPrefix, StringComparison.Ordinal) || reason.StartsWith(RuntimeFailurePrefix, StringComparison.Ordinal)))
            {
                return null;
            }

            var acquired = root.GetProperty("acquired");
            var started = DateTimeOffset.Parse(acquired.GetProperty("start").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var ended = DateTimeOffset.Parse(acquired.GetProperty("end").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            TimeSpan? preset = root.TryGetProperty("preset_s", out var p) ? TimeSpan.FromSeconds(p.GetDouble()) : null;
            string? sampleId = root.TryGetProperty("sample_id", out var s) ? s.GetString() : null;
            string? scanId = root.TryGetProperty("scan_id", out var scan) ? scan.GetString() : null;
            long scanIndex = scanId is null ? -1 : root.GetProperty("scan_index").GetInt64();
            var spectrum = SpectrumPayload.Decode(row.Spectrum);

            // Measured while no model was loaded, so the encoder never checked it: a calibration it refuses makes the
            // whole batch throw, and the pass would stop at this row at every load and start, the rows after it with it.
            if (spectrum.Calibration.Validate(spectrum.Counts.Length) is { } unusable)
            {
                problem = "its spectrum cannot be analysed: " + unusable;
                return null;
            }

            return new Pending(row.MeasurementId, spectrum, started, ended, preset, sampleId, scanId, scanIndex);
        }
        // OverflowException: a preset_s no TimeSpan holds (damage that still parses as a number).
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException or OverflowException or InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            problem = ex.Message;
            return null;
        }
    }

    /// <summary>A stored row to analyse; <paramref name="ScanId"/> and <paramref name="ScanIndex"/> (else -1) for a scan point.</summary>
    private sealed record Pending(string Id, Spectra.RawSpectrum Spectrum, DateTimeOffset Started, DateTimeOffset Ended, TimeSpan? Preset, string? SampleId, string? ScanId, long ScanIndex);
}

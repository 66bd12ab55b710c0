using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// A measurement that did not complete (aborted, analysis failed) but whose spectrum was acquired: its event and its
/// spectrum are committed together, <c>get_spectrum</c> answers for it, it consumes no detection seq, and the stored rows
/// stay within <see cref="OutboxOptions.ResultRetention"/> and <see cref="OutboxOptions.ResultRetentionBytes"/>. Until
/// 2026-11-23 only the event was stored: <c>get_spectrum</c> answered "No stored spectrum" and the counts were lost.
/// </summary>
public sealed class IncompleteMeasurementTests : IDisposable
{
    private static readonly TopicTree Topics = new("acme", "XRF-0042");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-incomplete-" + Guid.NewGuid().ToString("N")[..12]);

    public IncompleteMeasurementTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // As the service writes JSON: characters outside ASCII as they are, not as \u escapes.
    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private string DbPath => Path.Combine(_directory, "outbox.db");

    private SqliteOutbox Open(Action<OutboxOptions>? configure = null)
    {
        var options = new OutboxOptions { DatabasePath = DbPath };
        configure?.Invoke(options);
        return SqliteOutbox.Open(options);
    }

    private static OutboxMessage Event(string id, int bytes = 0) => new()
    {
        Kind = OutboxKind.Detection,
        Topic = Topics.Root + "/events",
        Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"{id}\",\"outcome\":\"failed\",\"pad\":\"{new string('x', bytes)}\"}}"),
    };

    private static OutboxReceipt Completed(SqliteOutbox outbox, string id, int spectrumBytes = 3) =>
        outbox.EnqueueMeasurement(new MeasurementRecord(id, new byte[spectrumBytes]), stamp =>
            [new OutboxMessage { Kind = OutboxKind.Detection, Topic = Topics.Detections, Payload = Encoding.UTF8.GetBytes($"{{\"seq\":{stamp.Seq}}}") }]);

    private static OutboxReceipt Incomplete(SqliteOutbox outbox, string id, int spectrumBytes = 3) =>
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord(id, new byte[spectrumBytes]), Event(id));

    private List<(string Id, long Bytes)> StoredResults() => OutboxFile.StoredResults(DbPath);

    private static OutboxReceipt Reanalysed(SqliteOutbox outbox, string id, int spectrumBytes = 3) =>
        outbox.EnqueueMeasurement(new MeasurementRecord(id, new byte[spectrumBytes], ReplacesIncomplete: true), stamp =>
            [new OutboxMessage { Kind = OutboxKind.Detection, Topic = Topics.Detections, Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.detections/1\",\"seq\":{stamp.Seq}}}") }]);

    [Fact]
    public void ReadIncompleteMeasurements_EventRowsOnly_OldestFirstAfterTheRowAndLimited()
    {
        using var outbox = Open();
        Completed(outbox, "C1");
        Incomplete(outbox, "F1");
        Completed(outbox, "C2");
        Incomplete(outbox, "F2");
        Incomplete(outbox, "F3");

        var first = outbox.ReadIncompleteMeasurements(0, 2);
        var rest = outbox.ReadIncompleteMeasurements(first[^1].RowId, 10);

        Assert.Equal(["F1", "F2"], first.Select(r => r.MeasurementId));
        Assert.Equal(["F3"], rest.Select(r => r.MeasurementId));
        Assert.StartsWith("{\"schema\":\"xrf.measurement-event/1\"", Encoding.UTF8.GetString(first[0].Event), StringComparison.Ordinal);
        Assert.Equal(3, first[0].Spectrum.Length);
    }

    [Fact]
    public void EnqueueMeasurement_ReplacesIncomplete_EventRowBecomesTheDetectionWithTheNextSeq()
    {
        using var outbox = Open();
        Completed(outbox, "C1");
        Incomplete(outbox, "F1");
        Incomplete(outbox, "F2");

        var receipt = Reanalysed(outbox, "F1");

        Assert.Equal(2, receipt.Stamp.Seq); // now a completed measurement: the next detection seq
        Assert.Equal(["C1", "F2", "F1"], StoredResults().Select(r => r.Id)); // the event row gave way to the detection
        Assert.Equal(["F2"], outbox.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
        Assert.StartsWith("{\"schema\":\"xrf.detections/1\"", Encoding.UTF8.GetString(outbox.TryGetResult("F1")!), StringComparison.Ordinal);
    }

    [Fact]
    public void EnqueueMeasurement_ReplacesIncomplete_AStoredDetectionIsNeverOverwritten()
    {
        using var outbox = Open();
        Completed(outbox, "C1");
        var before = outbox.GetStatistics();

        Assert.Throws<SqliteException>(() => Reanalysed(outbox, "C1"));

        Assert.Equal(before.LastSeq, outbox.GetStatistics().LastSeq); // rolled back: no seq, no row
        Assert.Equal(before.Depth, outbox.GetStatistics().Depth);
        Assert.Equal("{\"seq\":1}", Encoding.UTF8.GetString(outbox.TryGetResult("C1")!));
    }

    [Fact]
    public void EnqueueMeasurement_ReplacesIncomplete_ByteCapCountsTheReplacedRowOnce()
    {
        // ResultRetentionBytes is tracked in memory across commits: a replaced row must leave it, or the cap would prune
        // stored results that fit.
        using var outbox = Open(o => o.ResultRetentionBytes = 400);
        Incomplete(outbox, "F1", spectrumBytes: 100);
        Incomplete(outbox, "F2", spectrumBytes: 100);
        Reanalysed(outbox, "F1");
        Reanalysed(outbox, "F2");

        Incomplete(outbox, "F3", spectrumBytes: 100);

        Assert.Equal(["F1", "F2", "F3"], StoredResults().Select(r => r.Id));
    }

    [Fact]
    public void EnqueueMeasurement_ReplacesIncomplete_NearTheByteCap_NoOtherResultPruned()
    {
        // The prune inside the replacing transaction must see the table without the replaced row: it used to count that
        // row's bytes too (the in-memory total is updated only after the commit) and dropped a stored result that fit.
        // Bytes, from the helpers: each event row 86 + 100 = 186, the two 372; the detection replacing F1 is
        // 37 + 150 = 187, so the table holds 186 + 187 = 373 of 400 afterwards (counted twice: 559).
        using var outbox = Open(o => o.ResultRetentionBytes = 400);
        Incomplete(outbox, "F1", spectrumBytes: 100);
        Incomplete(outbox, "F2", spectrumBytes: 100);
        Assert.Equal(372, StoredResults().Sum(r => r.Bytes));

        Reanalysed(outbox, "F1", spectrumBytes: 150);

        Assert.Equal(["F2", "F1"], StoredResults().Select(r => r.Id));
        Assert.Equal(373, StoredResults().Sum(r => r.Bytes));
    }

    [Fact]
    public void EnqueueIncompleteMeasurement_Committed_EventQueuedSpectrumStoredNoSeqConsumed()
    {
        using var outbox = Open();
        Assert.Equal(1, Completed(outbox, "M-1").Stamp.Seq);
        var receipt = outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("M-2", [4, 5, 6]), Event("M-2"));
        Assert.Equal(0, receipt.Stamp.Seq); // the event carries no seq
        Assert.Equal(2, Completed(outbox, "M-3").Stamp.Seq); // the next detection follows without a gap

        var rows = outbox.ReadBatch(0, 10);
        Assert.Equal(3, rows.Count);
        Assert.Equal(receipt.RowId, rows[1].Id);
        Assert.Equal(Event("M-2").Topic, rows[1].Topic);
        Assert.Equal(new byte[] { 4, 5, 6 }, outbox.TryGetSpectrum("M-2"));
        Assert.Equal(rows[1].Payload, outbox.TryGetResult("M-2"));
        Assert.Equal(2, outbox.GetStatistics().LastSeq);
    }

    [Fact]
    public void EnqueueIncompleteMeasurement_OutboxReopened_SpectrumStillStored()
    {
        using (var outbox = Open())
        {
            Incomplete(outbox, "M-1");
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("M-2", [7, 8]), Event("M-2"));
        }

        using var reopened = Open();
        Assert.Equal(new byte[] { 7, 8 }, reopened.TryGetSpectrum("M-2"));
        Assert.Equal(2, reopened.GetStatistics().Depth);
        Assert.Equal(1, Completed(reopened, "M-3").Stamp.Seq);
    }

    [Fact]
    public void EnqueueIncompleteMeasurement_SameIdStoredBefore_NothingCommitted()
    {
        // One transaction: the event row must not be queued when its spectrum cannot be stored (the measurement_id key).
        using var outbox = Open();
        Incomplete(outbox, "M-1");
        Assert.Throws<SqliteException>(() => Incomplete(outbox, "M-1"));
        Assert.Single(outbox.ReadBatch(0, 10));
    }

    [Fact]
    public void EnqueueIncompleteMeasurement_LongRunPastResultRetention_PrunedToTheCountOldestFirst()
    {
        // 5 rows kept, arbitrary. The 40 incomplete rows all share seq 1 (the completed one's): a seq window could
        // never count or drop them, the rowid (insertion) order does.
        using var outbox = Open(o => o.ResultRetention = 5);
        Completed(outbox, "M-0");
        for (var i = 1; i <= 40; i++)
        {
            Incomplete(outbox, $"M-{i}");
        }

        Assert.Equal(["M-36", "M-37", "M-38", "M-39", "M-40"], StoredResults().Select(r => r.Id));
        Assert.Null(outbox.TryGetSpectrum("M-0"));
    }

    [Fact]
    public void EnqueueIncompleteMeasurement_LongRunPastResultRetentionBytes_PrunedToTheByteCapOldestFirst()
    {
        // 2,000-byte spectra plus an event of ~100 bytes: a 10,000-byte cap holds 4 rows (≈ 8,400 bytes; 5 would be
        // ≈ 10,500), whatever the row count allows (10,000 by default).
        using (var outbox = Open(o => o.ResultRetentionBytes = 10_000))
        {
            Completed(outbox, "M-0", spectrumBytes: 2_000);
            for (var i = 1; i <= 100; i++)
            {
                Incomplete(outbox, $"M-{i}", spectrumBytes: 2_000);
                Assert.InRange(StoredResults().Sum(r => r.Bytes), 2_000, 10_000);
            }
        }

        var stored = StoredResults();
        Assert.Equal(["M-97", "M-98", "M-99", "M-100"], stored.Select(r => r.Id));

        // The byte count the outbox keeps in memory is read from the file at open: one more row keeps the same bound.
        using var reopened = Open(o => o.ResultRetentionBytes = 10_000);
        Incomplete(reopened, "M-101", spectrumBytes: 2_000);
        Assert.Equal(["M-98", "M-99", "M-100", "M-101"], StoredResults().Select(r => r.Id));
    }

    [Fact]
    public void EnqueueBoth_InterleavedPastResultRetention_OldestDroppedFirstWhateverTheKind()
    {
        // Completed and incomplete rows count alike against ResultRetention (4 here, arbitrary) and go in insertion order.
        using var outbox = Open(o => o.ResultRetention = 4);
        var inserted = new List<string>();
        for (var i = 1; i <= 20; i++)
        {
            var id = $"M-{i}";
            if (i % 3 == 0)
            {
                Completed(outbox, id);
            }
            else
            {
                Incomplete(outbox, id);
            }

            inserted.Add(id);
            Assert.Equal(inserted.TakeLast(4), StoredResults().Select(r => r.Id));
        }

        Assert.Equal(6, outbox.GetStatistics().LastSeq); // M-3, M-6 … M-18: six completed measurements
    }

    private static OutboxMessage Chunk(string text) => new() { Kind = OutboxKind.Detection, Topic = Topics.Root + "/scans/points", Payload = Encoding.UTF8.GetBytes(text) };

    private static IncompleteScanPoint Point(string id, int spectrumBytes = 3) =>
        new(id, Event(id).Payload, Enumerable.Repeat((byte)7, spectrumBytes).ToArray());

    private static ScanPointAnalysis Analysis(string id) => new(id, Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.scan-points/1\",\"id\":\"{id}\"}}"));

    [Fact]
    public void EnqueueScanChunk_FailedPoints_ChunkQueuedAndTheirSpectraStoredWithoutASeq()
    {
        using var outbox = Open();
        Assert.Equal(1, Completed(outbox, "M-1").Stamp.Seq);

        outbox.EnqueueScanChunk(Chunk("{\"points\":[]}"), [Point("P-1"), Point("P-2", spectrumBytes: 5)]);

        Assert.Equal(2, outbox.ReadBatch(0, 10).Count); // the detection and the one chunk: no row per point
        Assert.Equal(["P-1", "P-2"], outbox.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
        Assert.Equal(5, outbox.TryGetSpectrum("P-2")!.Length);
        Assert.Equal(1, outbox.GetStatistics().LastSeq);
        Assert.Equal(2, Completed(outbox, "M-2").Stamp.Seq);
    }

    [Fact]
    public void EnqueueScanChunk_APointCannotBeStored_NeitherTheChunkNorAnyPointCommitted()
    {
        // One transaction: a chunk whose failed points' spectra are not all stored is not queued either, so the retry
        // of the chunk stores it once.
        using var outbox = Open();
        Incomplete(outbox, "P-2");

        Assert.Throws<SqliteException>(() => outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1"), Point("P-2")]));

        Assert.Single(outbox.ReadBatch(0, 10));
        Assert.Equal(["P-2"], StoredResults().Select(r => r.Id));
    }

    [Fact]
    public void EnqueueScanChunk_MoreFailedPointsThanResultRetention_TheNewestKept()
    {
        // The bound of the results table holds for scan points too: 3 rows kept (arbitrary), the chunk's first two go.
        using var outbox = Open(o => o.ResultRetention = 3);

        outbox.EnqueueScanChunk(Chunk("{}"), [.. Enumerable.Range(1, 5).Select(i => Point($"P-{i}"))]);

        Assert.Equal(["P-3", "P-4", "P-5"], StoredResults().Select(r => r.Id));
        Assert.Single(outbox.ReadBatch(0, 10)); // the chunk itself is queued whole
    }

    [Fact]
    public void ReplaceIncompleteScanPoints_CalledTwice_PublishedOnceAndTheSpectraKept()
    {
        using var outbox = Open();
        outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1"), Point("P-2")]);

        Assert.Equal(2, outbox.ReplaceIncompleteScanPoints([Analysis("P-1"), Analysis("P-2")], present => Chunk("reanalysed " + string.Join(",", present.Select(a => a.MeasurementId)))));
        Assert.Equal(0, outbox.ReplaceIncompleteScanPoints([Analysis("P-1"), Analysis("P-2")], _ => throw new InvalidOperationException("nothing is left to publish")));

        Assert.Equal(["{}", "reanalysed P-1,P-2"], outbox.ReadBatch(0, 10).Select(r => Encoding.UTF8.GetString(r.Payload)));
        Assert.Empty(outbox.ReadIncompleteMeasurements(0, 10));
        Assert.Equal(Analysis("P-1").Result, outbox.TryGetResult("P-1"));
        Assert.Equal(3, outbox.TryGetSpectrum("P-2")!.Length);
    }

    [Fact]
    public void ReplaceIncompleteScanPoints_OutboxReopenedMidPass_OnlyThePointsNotReplacedAreLeftToAnalyse()
    {
        // A restart in the middle of a pass: what was committed is not taken again, what was not is still stored.
        using (var outbox = Open())
        {
            outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1"), Point("P-2"), Point("P-3")]);
            outbox.ReplaceIncompleteScanPoints([Analysis("P-1")], _ => Chunk("P-1"));
        }

        using var reopened = Open();
        Assert.Equal(["P-2", "P-3"], reopened.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
        Assert.Equal(2, reopened.ReplaceIncompleteScanPoints([Analysis("P-1"), Analysis("P-2"), Analysis("P-3")], present => Chunk(string.Join(",", present.Select(a => a.MeasurementId)))));
        Assert.Equal(["{}", "P-1", "P-2,P-3"], reopened.ReadBatch(0, 10).Select(r => Encoding.UTF8.GetString(r.Payload)));
    }

    [Fact]
    public void ReplaceIncompleteScanPoints_OnePrunedMeanwhile_OnlyTheStoredOnePublished()
    {
        // ResultRetention 2: the completed measurement stored after the chunk prunes P-1 before its analysis is stored.
        using var outbox = Open(o => o.ResultRetention = 2);
        outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1"), Point("P-2")]);
        Completed(outbox, "M-1");

        Assert.Equal(1, outbox.ReplaceIncompleteScanPoints([Analysis("P-1"), Analysis("P-2")], present => Chunk(string.Join(",", present.Select(a => a.MeasurementId)))));

        Assert.Equal("P-2", Encoding.UTF8.GetString(outbox.ReadBatch(0, 10)[^1].Payload));
    }

    [Fact]
    public void ReplaceIncompleteScanPoints_ResultBytesCountedOnce_NoOtherResultPruned()
    {
        // The byte total of the results table is kept in memory across commits: a replaced event must leave it. Bytes,
        // from the helpers: an event row is 87 + 50 = 137, an analysed point 41 + 50 = 91. After the analysis the table
        // holds 182 of 400 and the next event row fits (319); counted as events still (274 + 137 = 411) P-1 would go.
        using var outbox = Open(o => o.ResultRetentionBytes = 400);
        outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1", spectrumBytes: 50), Point("P-2", spectrumBytes: 50)]);
        Assert.Equal(274, StoredResults().Sum(r => r.Bytes));
        outbox.ReplaceIncompleteScanPoints([Analysis("P-1"), Analysis("P-2")], _ => Chunk("{}"));
        Assert.Equal(182, StoredResults().Sum(r => r.Bytes));

        Incomplete(outbox, "F-3", spectrumBytes: 50);

        Assert.Equal(["P-1", "P-2", "F-3"], StoredResults().Select(r => r.Id));
    }

    /// <summary>Rows queued at <see cref="DbPath"/> and their bytes, after <paramref name="fill"/> ran on a fresh outbox.</summary>
    private long Filled(Action<SqliteOutbox> fill)
    {
        using var outbox = Open();
        fill(outbox);
        return outbox.GetStatistics().Bytes;
    }

    [Fact]
    public void ReplaceIncompleteScanPoints_PastTheCap_RefusedAndNoUnsentRowEvicted()
    {
        // 2026-11-24 review: the re-analysed chunk made room like a new measurement, so under EvictOldest a failed map's
        // re-analysis evicted the oldest unsent rows (here the failed chunk itself and a detection): sent-data safety
        // traded for a copy the results table keeps anyway. Now it is refused, nothing changes, and a later pass retries.
        long queued = Filled(o =>
        {
            o.EnqueueScanChunk(Chunk("{}"), [Point("P-1")]);
            Completed(o, "M-1");
        });
        using var outbox = Open(o => o.MaxBytes = queued + 10);

        Assert.Throws<OutboxFullException>(() => outbox.ReplaceIncompleteScanPoints([Analysis("P-1")], _ => Chunk(new string('r', 40))));

        Assert.Equal(2, outbox.ReadBatch(0, 10).Count);
        Assert.Equal(0, outbox.GetStatistics().EvictedTotal);
        Assert.Equal(0, outbox.GetStatistics().RefusedTotal); // no measurement was refused: the point waits stored
        Assert.Equal(["P-1"], outbox.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
    }

    [Fact]
    public void Reanalysed_PastTheCap_RefusedAndNoUnsentRowEvicted()
    {
        // The same for a re-analysed single measurement (a detection that replaces its stored event).
        long queued = Filled(o =>
        {
            Incomplete(o, "F-1");
            Completed(o, "M-1");
        });
        using var outbox = Open(o => o.MaxBytes = queued + 10);

        Assert.Throws<OutboxFullException>(() => Reanalysed(outbox, "F-1"));

        Assert.Equal(2, outbox.ReadBatch(0, 10).Count);
        Assert.Equal(0, outbox.GetStatistics().EvictedTotal);
        Assert.Equal(["F-1"], outbox.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
    }

    [Fact]
    public void ReplaceIncompleteScanPoints_RejectNew_LeavesTheLastQuarterOfTheCapToLiveResults()
    {
        // Under RejectNew a re-analysis that filled the cap made the next live detection be refused: a map's worth of
        // re-analysed chunks while offline could lock out new measurements. A re-analysis is stored only while the queue
        // stays within 3/4 of Outbox:MaxMegabytes; the rest is the live results'.
        long queued = Filled(o => o.EnqueueScanChunk(Chunk(new string('c', 600)), [Point("P-1")]));
        Assert.Equal(600, queued);
        using var outbox = Open(o =>
        {
            o.MaxBytes = 1000;
            o.FullPolicy = OutboxFullPolicy.RejectNew;
        });

        Assert.Throws<OutboxFullException>(() => outbox.ReplaceIncompleteScanPoints([Analysis("P-1")], _ => Chunk(new string('r', 200))));
        outbox.Enqueue(Chunk(new string('l', 300))); // the live result fits: 900 of 1000

        Assert.Equal(2, outbox.ReadBatch(0, 10).Count);
        Assert.Equal(["P-1"], outbox.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
    }

    [Fact]
    public void EnqueueScanChunk_PrunesRowsAwaitingReanalysis_LoggedWithTheirNumber()
    {
        // A failed map past ResultRetention prunes older rows, among them measurements whose analysis failed and that a
        // model would still analyse: their spectra are gone for good. Until 2026-11-24 that happened silently.
        using var log = new MemoryLoggerFactory();
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, ResultRetention = 3 }, log.CreateLogger<SqliteOutbox>());
        Completed(outbox, "M-1");
        Incomplete(outbox, "F-1");

        outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1"), Point("P-2")]);
        Assert.Empty(log.WithEvent(7048)); // M-1 only: a completed result, pruned as the bound says
        outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-3"), Point("P-4")]);

        Assert.Equal(["P-2", "P-3", "P-4"], StoredResults().Select(r => r.Id));
        var warning = Assert.Single(log.WithEvent(7048)); // one for the commit that pruned F-1 and P-1
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(" 2 ", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Delete_QueueLeftWithinTheReanalysisShare_RaisesReanalysisRoomMadeOnlyThen()
    {
        // The service's re-analysis pass, refused past 3/4 of MaxBytes, waits for this event (since 2026-11-24): raised
        // when delivered rows leave the queue within that share, not while it is still past it.
        using var outbox = Open(o => o.MaxBytes = 1000); // share: 750 bytes
        var raised = 0;
        outbox.ReanalysisRoomMade += (_, _) => raised++;
        var first = outbox.Enqueue(Chunk(new string('a', 500))).RowId;
        var second = outbox.Enqueue(Chunk(new string('b', 400))).RowId;
        var small = outbox.Enqueue(Chunk(new string('s', 100))).RowId; // 1000 queued

        outbox.Delete([small]); // 900 left: still past the share
        Assert.Equal(0, raised);
        outbox.Delete([second]); // 500 left: within it
        Assert.Equal(1, raised);
        Assert.Equal(1, outbox.ReanalysisRoomMadeCount);
        outbox.Delete([second]); // nothing freed: no event
        Assert.Equal(1, raised);

        var third = outbox.Enqueue(Chunk(new string('c', 400))).RowId; // 900 again
        outbox.Delete([third]);
        Assert.Equal(2, raised);
        outbox.Enqueue(Chunk(new string('d', 450))); // 950
        outbox.Delete([first]); // 450 left
        Assert.Equal(3, raised);
    }

    [Fact]
    public void Delete_ReanalysisRoomMadeHandlerThrows_DeleteReportsSuccessOtherHandlersRunAndItIsLogged()
    {
        // The event is raised after the delete committed, on the drainer's thread. Until 2026-11-24 (review) a throwing
        // handler made Delete throw: the drainer took committed deletes for failed ones (7031 and an ack back-off), and
        // RecordRefusal's caller took a dead-lettered row for a refusal not recorded (held back to be sent again).
        using var log = new MemoryLoggerFactory();
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, MaxBytes = 1000, MaxAttempts = 1 }, log.CreateLogger<SqliteOutbox>());
        var later = 0;
        outbox.ReanalysisRoomMade += (_, _) => throw new InvalidOperationException("handler bug");
        outbox.ReanalysisRoomMade += (_, _) => later++;
        var delivered = outbox.Enqueue(Chunk("delivered")).RowId;
        var refused = outbox.Enqueue(Chunk("refused")).RowId;

        outbox.Delete([delivered]);
        Assert.True(outbox.RecordRefusal(refused, 0x87)); // MaxAttempts 1: dead-lettered at once; 0x87 Not authorized

        Assert.Equal(0, outbox.GetStatistics().Depth);
        Assert.Equal(1, outbox.GetStatistics().DeadLettered);
        Assert.Equal(2, later);
        Assert.Equal(2, outbox.ReanalysisRoomMadeCount);
        Assert.Equal(2, log.Count(7059));
        Assert.All(log.WithEvent(7059), e => Assert.Equal(LogLevel.Error, e.Level));
    }

    [Fact]
    public void GetStatistics_RowsAwaitingReanalysisAndThosePruned_CountedOnlyForTheReasonsGivenAndKeptAcrossReopening()
    {
        // Until 2026-11-24 rows awaiting re-analysis and those pruned before it (7048) were counted nowhere an operator or
        // fleet manager sees. The prefix is the service's "no model" reason (ReanalysisWorker.ReasonPrefix); an aborted
        // measurement stored with its spectrum is not awaiting anything.
        const string NoModel = "analysis failed: no model loaded: ";
        void Configure(OutboxOptions o)
        {
            o.ResultRetention = 3;
            o.ReanalysisReasonPrefixes = [NoModel];
        }

        static OutboxMessage WithReason(string id, string outcome, string reason) => new()
        {
            Kind = OutboxKind.Detection,
            Topic = Topics.Root + "/events",
            Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"{id}\",\"outcome\":\"{outcome}\",\"reason\":\"{reason}\"}}"),
        };

        using (var outbox = Open(Configure))
        {
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("A-1", new byte[3]), WithReason("A-1", "aborted", "stopped by the operator"));
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-1", new byte[3]), WithReason("F-1", "failed", NoModel + "model file is truncated"));
            outbox.EnqueueScanChunk(Chunk("{}"), [new IncompleteScanPoint("P-1", WithReason("P-1", "failed", NoModel + "none").Payload, new byte[3])]);
            Assert.Equal(2, outbox.GetStatistics().AwaitingReanalysis); // F-1, P-1
            Assert.Equal(0, outbox.GetStatistics().PrunedUnanalysedTotal);

            Completed(outbox, "M-1"); // 4 rows, 3 kept: A-1 pruned, not awaiting anything
            Assert.Equal(0, outbox.GetStatistics().PrunedUnanalysedTotal);
            Completed(outbox, "M-2"); // F-1 pruned
            Assert.Equal(1, outbox.GetStatistics().PrunedUnanalysedTotal);
            Assert.Equal(1, outbox.GetStatistics().AwaitingReanalysis); // P-1
        }

        using var reopened = Open(Configure);
        Assert.Equal(1, reopened.GetStatistics().PrunedUnanalysedTotal); // persistent, like evicted_total
        Assert.Equal(1, reopened.GetStatistics().AwaitingReanalysis);
    }

    [Fact]
    public void Open_FileOfTheReleaseBeforeTheCounter_CounterAddedAndCountsThePrunes()
    {
        // A file written by the release before 2026-11-24 has no 'pruned_unanalysed_total' row (same user_version 1), and
        // an UPDATE of a missing row counts nothing without failing: the schema's INSERT OR IGNORE at every open adds it.
        const string NoModel = "analysis failed: no model loaded: ";
        using (var outbox = Open())
        {
            Completed(outbox, "M-0");
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM counters WHERE name = 'pruned_unanalysed_total'";
            Assert.Equal(1, command.ExecuteNonQuery()); // the premise: now shaped like the older release's file
        }

        using var reopened = Open(o =>
        {
            o.ResultRetention = 1;
            o.ReanalysisReasonPrefixes = [NoModel];
        });
        reopened.EnqueueIncompleteMeasurement(new MeasurementRecord("F-1", new byte[3]), new OutboxMessage
        {
            Kind = OutboxKind.Detection,
            Topic = Topics.Root + "/events",
            Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"F-1\",\"outcome\":\"failed\",\"reason\":\"{NoModel}none\"}}"),
        });
        Completed(reopened, "M-1"); // F-1 pruned unanalysed

        Assert.Equal(1, reopened.GetStatistics().PrunedUnanalysedTotal);
    }

    [Theory]
    [InlineData("analysis failed: \U0001F52C ")] // a character outside the BMP: two UTF-16 units, one SQLite character
    [InlineData("analysis failed: it's 100% _down_ ")] // a quote, and LIKE's wildcards, which must match only themselves
    public void GetStatistics_ReasonPrefixWithQuotesWildcardsOrNonBmpCharacters_CountsExactlyTheRowsStartingWithIt(string prefix)
    {
        // OutboxOptions.ReanalysisReasonPrefixes becomes SQL at open: each prefix must match as written. Until 2026-11-24
        // (review) its length was counted in UTF-16 units while SQLite's substr counts characters, so a prefix with a
        // character outside the BMP matched no row, and the rows awaiting re-analysis were counted as none.
        static OutboxMessage WithReason(string id, string reason) => new()
        {
            Kind = OutboxKind.Detection,
            Topic = Topics.Root + "/events",
            Payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
            {
                ["schema"] = "xrf.measurement-event/1",
                ["measurement_id"] = id,
                ["outcome"] = "failed",
                ["reason"] = reason,
            }, RelaxedJson),
        };

        using var outbox = Open(o => o.ReanalysisReasonPrefixes = [prefix]);
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-1", new byte[3]), WithReason("F-1", prefix + "model missing"));
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-2", new byte[3]), WithReason("F-2", prefix));
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("O-1", new byte[3]), WithReason("O-1", "analysis failed: its 100x -down- other"));
        outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("O-2", new byte[3]), WithReason("O-2", "analysis failed: "));

        Assert.Equal(2, outbox.GetStatistics().AwaitingReanalysis); // F-1, F-2
    }

    [Fact]
    public void GetStatistics_PrefixesChangedBetweenRunsOrFileWithoutIndex_CountsForTheCurrentPrefixes()
    {
        // Since 2026-11-24 (review) the count comes from a partial index built for the prefixes given at open: a file
        // written by an earlier release has none, and a run with other prefixes finds one for the old test. Both must
        // count for the options of this run. The reasons are the service's two (OutboxOptions.ReanalysisReasonPrefixes).
        const string NoModel = "analysis failed: no model loaded: ";
        const string Onnx = "analysis failed: ONNX Runtime ";
        static OutboxMessage WithReason(string id, string reason) => new()
        {
            Kind = OutboxKind.Detection,
            Topic = Topics.Root + "/events",
            Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"{id}\",\"outcome\":\"failed\",\"reason\":\"{reason}\"}}"),
        };

        using (var outbox = Open(o => o.ReanalysisReasonPrefixes = [NoModel]))
        {
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-1", new byte[3]), WithReason("F-1", NoModel + "none"));
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-2", new byte[3]), WithReason("F-2", Onnx + "error 6"));
            Assert.Equal(1, outbox.GetStatistics().AwaitingReanalysis); // F-1
        }

        using (var outbox = Open(o => o.ReanalysisReasonPrefixes = [NoModel, Onnx]))
        {
            Assert.Equal(2, outbox.GetStatistics().AwaitingReanalysis); // F-1, F-2
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = $"DROP INDEX {SqliteOutbox.AwaitingReanalysisIndex}"; // as a file from before 2026-11-24
            drop.ExecuteNonQuery();
        }

        Assert.False(SqliteOutbox.Inspect(DbPath).Statistics!.AwaitingReanalysisCounted); // read-only: builds nothing
        using (var outbox = Open(o => o.ReanalysisReasonPrefixes = [Onnx]))
        {
            Assert.Equal(1, outbox.GetStatistics().AwaitingReanalysis); // F-2
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-3", new byte[3]), WithReason("F-3", Onnx + "error 1"));
            Assert.Equal(2, outbox.GetStatistics().AwaitingReanalysis); // F-2, F-3
        }

        var inspected = SqliteOutbox.Inspect(DbPath).Statistics!;
        Assert.True(inspected.AwaitingReanalysisCounted);
        Assert.Equal(2, inspected.AwaitingReanalysis); // with the last run's prefixes, from the file's index
    }

    [Fact]
    public void Open_FileFullWhenTheReanalysisIndexIsBuilt_OpensAndCountsWithoutIt()
    {
        // Since 2026-11-24 (review) open builds the index the awaiting count reads. In a file at its size limit
        // (Outbox:MaxFileBytes, or a full card) the build fails with SQLITE_FULL; that must not keep the service, and its
        // stored results, from starting: the count then reads the table as before, and 7060 says why.
        const string NoModel = "analysis failed: no model loaded: ";
        using (var outbox = Open(o => o.ReanalysisReasonPrefixes = [NoModel]))
        {
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-1", new byte[3]), new OutboxMessage
            {
                Kind = OutboxKind.Detection,
                Topic = Topics.Root + "/events",
                Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"F-1\",\"outcome\":\"failed\",\"reason\":\"{NoModel}none\"}}"),
            });
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var shrink = connection.CreateCommand();
            // No index (a file from before 2026-11-24), no free page, everything in the main file: the build needs a new page.
            shrink.CommandText = $"DROP INDEX {SqliteOutbox.AwaitingReanalysisIndex}; VACUUM; PRAGMA wal_checkpoint(TRUNCATE);";
            shrink.ExecuteNonQuery();
        }

        using var log = new MemoryLoggerFactory();
        using var reopened = SqliteOutbox.Open(
            new OutboxOptions { DatabasePath = DbPath, ReanalysisReasonPrefixes = [NoModel], MaxFileBytes = new FileInfo(DbPath).Length },
            log.CreateLogger<SqliteOutbox>());
        Assert.Equal(1, reopened.GetStatistics().AwaitingReanalysis); // F-1, by a read of the table
        Assert.Equal(1, log.Count(7060));
    }

    [Fact]
    public void Open_DamagedFile_RowsAwaitingReanalysisSalvagedWithTheirSpectra()
    {
        // A damaged outbox is moved aside at the next start and its queued rows salvaged (docs/mqtt.md "Integrity check
        // at start"). The results rows were not: a failed map's spectra, and every failed measurement still waiting for a
        // model, were left behind in the *.corrupt file and never analysed. They are the measurement itself, not a copy
        // of something queued, so they are salvaged too (since 2026-11-24); completed results' copies are not.
        using (var outbox = Open())
        {
            Completed(outbox, "M-1");
            outbox.EnqueueScanChunk(Chunk("{}"), [Point("P-1"), Point("P-2", spectrumBytes: 5)]);
            Incomplete(outbox, "F-1");
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            // Noise over the dead-letter table's root page: the file fails its integrity check, the rows stay readable.
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'dead_letter'";
            long rootPage = (long)command.ExecuteScalar()!;
            command.CommandText = "PRAGMA page_size";
            long pageSize = (long)command.ExecuteScalar()!;
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
            connection.Close();
            using var file = new FileStream(DbPath, FileMode.Open, FileAccess.Write);
            file.Position = (rootPage - 1) * pageSize;
            var noise = new byte[pageSize];
            new Random(20481).NextBytes(noise);
            file.Write(noise);
        }

        using var reopened = Open();
        Assert.NotNull(reopened.RecoveredFromCorruption);
        Assert.Equal(["P-1", "P-2", "F-1"], reopened.ReadIncompleteMeasurements(0, 10).Select(r => r.MeasurementId));
        Assert.Equal(5, reopened.TryGetSpectrum("P-2")!.Length);
        Assert.Null(reopened.TryGetSpectrum("M-1"));
        Assert.Equal(["P-1", "P-2", "F-1"], StoredResults().Select(r => r.Id));
    }

    [Fact]
    public void Open_DamagedFile_PersistentCountersCarriedIntoTheNewOutbox()
    {
        // pruned_unanalysed_total and evicted_total count what was lost, ever ("persistent"). Until 2026-11-24 (review) a
        // damaged file moved aside at start took them with it: the fleet saw both drop to 0 with the recovery, as if the
        // maps pruned before their analysis and the evicted rows had never been. They are read like the salvaged rows.
        const string NoModel = "analysis failed: no model loaded: ";
        static OutboxMessage NoModelEvent(string id) => new()
        {
            Kind = OutboxKind.Detection,
            Topic = Topics.Root + "/events",
            Payload = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.measurement-event/1\",\"measurement_id\":\"{id}\",\"outcome\":\"failed\",\"reason\":\"{NoModel}none\"}}"),
        };

        void Configure(OutboxOptions o)
        {
            o.ResultRetention = 2;
            o.ReanalysisReasonPrefixes = [NoModel];
            o.MaxBytes = 1000;
        }

        long pruned, evicted;
        using (var outbox = Open(Configure))
        {
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-1", new byte[3]), NoModelEvent("F-1"));
            outbox.EnqueueIncompleteMeasurement(new MeasurementRecord("F-2", new byte[3]), NoModelEvent("F-2"));
            Completed(outbox, "M-1"); // F-1 pruned unanalysed
            outbox.Enqueue(Chunk(new string('a', 900))); // past MaxBytes: the oldest queued rows evicted (EvictOldest)
            var statistics = outbox.GetStatistics();
            (pruned, evicted) = (statistics.PrunedUnanalysedTotal, statistics.EvictedTotal);
        }

        Assert.Equal(1, pruned);
        Assert.True(evicted > 0, "the 900-byte chunk evicted nothing: the test no longer exercises evicted_total");
        OutboxDamage.DamageOutboxTable(DbPath);

        using var reopened = Open(Configure);
        Assert.NotNull(reopened.RecoveredFromCorruption);
        Assert.Equal(pruned, reopened.GetStatistics().PrunedUnanalysedTotal);
        Assert.Equal(evicted, reopened.GetStatistics().EvictedTotal);
    }

    private static string? Status(MqttInboundMessage reply) => JsonDocument.Parse(reply.Payload).RootElement.GetProperty("status").GetString();

    [Fact]
    public async Task EnqueueIncomplete_GetSpectrumFromRealBroker_AnswersWithTheStoredProtobuf()
    {
        using var broker = MosquittoBroker.Started();
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, "#");
        using var outbox = Open();
        var options = Program.ChildTransport(broker.Port, "dev-incomplete");
        DetectionPublisher.ConfigureAvailability(options, Topics);
        await using var transport = new MosquittoTransport(options);
        await using var publisher = new DetectionPublisher(transport, outbox, Topics, new PublisherOptions { HealthInterval = TimeSpan.FromHours(1) });
        await publisher.StartAsync(CancellationToken.None);

        var measured = TestData.Measurement("M-0007").Spectrum; // TestData's 2048-channel spectrum, any counts would do
        var receipt = publisher.EnqueueIncomplete("M-0007", measured, new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), Event("M-0007"));
        var published = await subscriber.WaitForTopicAsync(Topics.Root + "/events");
        Assert.Equal("M-0007", JsonDocument.Parse(published.Payload).RootElement.GetProperty("measurement_id").GetString());
        Assert.Contains(new MqttUserProperty("msg_id", receipt.Stamp.MsgId.ToString()), published.UserProperties);

        await using var requester = new MosquittoTransport(Program.ChildTransport(broker.Port, "requester"));
        requester.Start();
        await requester.WaitConnectedAsync(CancellationToken.None);
        await requester.PublishAsync(new MqttOutboundMessage
        {
            Topic = Topics.Command("get_spectrum"),
            Payload = """{"command_id":"c-1","measurement_id":"M-0007"}"""u8.ToArray(),
            ResponseTopic = "xrf/v1/acme/_ops/dash/resp",
            CorrelationData = "corr-1"u8.ToArray(),
        }, CancellationToken.None);
        var reply = await subscriber.WaitForAsync(m => m.Topic == "xrf/v1/acme/_ops/dash/resp" && Status(m) != "accepted");
        Assert.Equal("completed", Status(reply)); // was "failed": No stored spectrum
        var spectrum = await subscriber.WaitForTopicAsync(Topics.Spectrum("M-0007"));
        Assert.Equal(SpectrumPayload.ContentType, spectrum.ContentType);
        Assert.Equal(SpectrumPayload.Encode("M-0007", Topics.Device, measured, new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero)), spectrum.Payload);
        Assert.Equal(measured.Counts, SpectrumPayload.Decode(spectrum.Payload).Counts);
        Assert.Equal(0, outbox.GetStatistics().LastSeq);
    }
}

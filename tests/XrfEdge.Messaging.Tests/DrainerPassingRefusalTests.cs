using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The drainer when the broker answers a row's PUBLISH with a reason that describes the broker's state, not the row:
/// MQTT 5.0 §3.4.2.1 0x97 "Quota exceeded" (an implementation or administrative limit, e.g. a cloud broker throttling
/// a backlog drained at full speed) and 0x91 "Packet Identifier in use" (session state out of step). Such a row must wait
/// and be sent again, never be dead-lettered for it. A fake transport on a real SQLite outbox: mosquitto 2.0 answers a
/// QoS 1 PUBLISH with 0x97 only for QoS 2 flows, so no real broker can be made to give it.
/// </summary>
public sealed class DrainerPassingRefusalTests : IDisposable
{
    // MQTT 5.0 §3.4.2.1, PUBACK reason codes.
    private const int QuotaExceeded = 0x97;
    private const int PacketIdentifierInUse = 0x91;

    // MQTT 5.0 §3.4.2.1: 0x87 "Not authorized", a refusal of the row itself (counted, recorded in the outbox).
    private const int NotAuthorized = 0x87;

    // Log event ids (src/XrfEdge.Messaging/Log.cs).
    private const int PublishRefusedEvent = 7030;
    private const int PassingRefusalEvent = 7029;
    private const int PassingRefusalEndedEvent = 7046;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-quota-" + Guid.NewGuid().ToString("N")[..12]);

    public DrainerPassingRefusalTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string DbPath => Path.Combine(_directory, "outbox.db");

    /// <summary>An outbox holding <paramref name="count"/> detection rows on topics …/detections/0, /1, … in that order.</summary>
    private SqliteOutbox OutboxWithRows(int count)
    {
        var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath });
        for (var i = 0; i < count; i++)
        {
            outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = $"acme/dev1/detections/{i}", Payload = [(byte)i] });
        }

        return outbox;
    }

    [Theory]
    [InlineData(QuotaExceeded)]
    [InlineData(PacketIdentifierInUse)]
    public async Task Drainer_BrokerAnswersAPassingLimitMoreOftenThanMaxAttempts_RowNotDeadLetteredAndDeliveredOnceAccepted(int reason)
    {
        // MaxAttempts 2 and three such answers in a row: counted as refusals, the row would be dead-lettered at the second.
        using var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, MaxAttempts = 2 });
        var row = outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "acme/dev1/detections", Payload = [1] });
        var transport = new FakeMqttTransport();
        transport.Answers.Enqueue(reason);
        transport.Answers.Enqueue(reason);
        transport.Answers.Enqueue(reason);
        var log = new MemoryLoggerFactory();
        var drainer = transport.DrainDetections(outbox, log);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(
                () => outbox.GetStatistics() is { Depth: 0 } || outbox.GetStatistics().DeadLettered > 0,
                "row delivered or dead-lettered", timeoutSeconds: 60);

            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
            Assert.Equal([reason, reason, reason, 0], transport.Attempts.Select(a => a.Reason));
            Assert.Empty(log.WithEvent(PublishRefusedEvent));
            var held = log.WithEvent(PassingRefusalEvent);
            Assert.NotEmpty(held);
            Assert.Contains($"row {row.RowId} on 'acme/dev1/detections'", held[0].Message, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_BrokerNamesAQuota_NothingSentUntilTheBackOffEndsThenTheRowsInOrder()
    {
        // A broker that enforces a publish-rate quota answers 0x97 when the backlog drains too fast. Until 2026-11-24 the
        // drainer held the refused row back but went on handing the rows behind it over at full speed (each refused and
        // held in turn): the broker was hammered for the whole spell. Ten rows, the first answered 0x97, the rest
        // accepted; the clock is moved by hand, so the back-off (1 s, StorageRetryBackoff.DefaultInitial) ends only when
        // the test moves it.
        using var outbox = OutboxWithRows(10);

        var transport = new FakeMqttTransport { AnswerDelay = TimeSpan.FromMilliseconds(20) };
        transport.Answers.Enqueue(QuotaExceeded);
        var log = new MemoryLoggerFactory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var drainer = transport.DrainDetections(outbox, log, clock);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => drainer.HeldBack == 1, "the refused row held back", timeoutSeconds: 60);

            // Three more passes of the send loop (woken by hand, or by its 1-s idle tick) with the back-off still running.
            for (var pass = 0; pass < 3; pass++)
            {
                var passes = drainer.SendPasses;
                drainer.Wake();
                await Waiting.UntilAsync(() => drainer.SendPasses > passes, "a send pass", timeoutSeconds: 60);
            }

            Assert.Equal(["acme/dev1/detections/0"], transport.Attempts.Select(a => a.Topic));

            // Half the back-off: still paused.
            clock.Advance(TimeSpan.FromMilliseconds(500));
            var before = drainer.SendPasses;
            drainer.Wake();
            await Waiting.UntilAsync(() => drainer.SendPasses > before + 1, "two send passes", timeoutSeconds: 60);
            Assert.Single(transport.Attempts);

            // The back-off over: the held row first, then the rest, in order.
            clock.Advance(TimeSpan.FromMilliseconds(500));
            drainer.Wake();
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "every row delivered", timeoutSeconds: 60);
            Assert.Equal(
                ["acme/dev1/detections/0", .. Enumerable.Range(0, 10).Select(i => $"acme/dev1/detections/{i}")],
                transport.Attempts.Select(a => a.Topic));
            Assert.Single(log.WithEvent(PassingRefusalEvent));
            Assert.Empty(log.WithEvent(PublishRefusedEvent));
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_BrokerUnderAQuotaAcceptsEveryOtherRow_OneSpellLoggedNotOnePerRefusal()
    {
        // A rate quota (0x97) lets some rows through and answers the rest: accepted and limited answers alternate. Each
        // accepted row ended the "spell" (7046) and the next limited one began a new one, logged in full (7029): two log
        // lines per row of a backlog, the flood the back-off's log budget exists to prevent. The spell lasts until every
        // row held back for a limit is accepted and the broker has named none for 30 s of sending. Ten limited answers
        // among twenty rows, each answer after 20 ms (any delay that lets the acknowledgement loop see them one by one); the
        // clock is moved by hand, so no held-back row is sent again before the test moves it.
        using var outbox = OutboxWithRows(20);

        var transport = new FakeMqttTransport { AnswerDelay = TimeSpan.FromMilliseconds(20) };
        for (var i = 0; i < 10; i++)
        {
            transport.Answers.Enqueue(QuotaExceeded);
            transport.Answers.Enqueue(0);
        }

        var log = new MemoryLoggerFactory();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var drainer = transport.DrainDetections(outbox, log, clock);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            // Each refusal pauses the drainer for its back-off step (1, 2, 4, 8, 16, 30 s); moved by the cap (30 s,
            // StorageRetryBackoff.DefaultCap) each time, the held row goes again and is accepted, and the next row is
            // refused. A row accepted right after a pause is no sign the quota has passed: one spell throughout.
            while (true)
            {
                await Waiting.UntilAsync(() => drainer.HeldBack == 1 || outbox.GetStatistics().Depth == 0, "a row held back, or every row delivered", timeoutSeconds: 60);
                if (outbox.GetStatistics().Depth == 0)
                {
                    break;
                }

                var attempts = transport.Attempts.Count;
                clock.Advance(TimeSpan.FromSeconds(30));
                drainer.Wake();
                await Waiting.UntilAsync(
                    () => (transport.Attempts.Count >= attempts + 2 && drainer.HeldBack == 1) || outbox.GetStatistics().Depth == 0,
                    "the held row accepted and the next one held back", timeoutSeconds: 60);
            }

            Assert.Equal(10, transport.Attempts.Count(a => a.Reason == QuotaExceeded));
            Assert.Single(log.WithEvent(PassingRefusalEvent));
            Assert.Empty(log.WithEvent(PassingRefusalEndedEvent));

            // A row accepted the cap (30 s) after the last pause ended, with no limit named since, ends the spell, once.
            clock.Advance(TimeSpan.FromSeconds(31));
            outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = "acme/dev1/detections/20", Payload = [20] });
            drainer.Wake();
            // The end is logged after the delete: wait for the log, not the depth.
            await Waiting.UntilAsync(() => log.WithEvent(PassingRefusalEndedEvent).Count > 0, "the spell's end logged (7046)", timeoutSeconds: 60);
            Assert.Equal(0, outbox.GetStatistics().Depth);
            Assert.Single(log.WithEvent(PassingRefusalEvent));
            Assert.Single(log.WithEvent(PassingRefusalEndedEvent));
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_QuotaAnswerForAPreviousRunArrivesAfterARestart_NewRunStillSends()
    {
        // A publisher stopped and started again in the same process: its drainer's first run handed row 0 over and
        // stopped before the answer; the broker's 0x97 for it arrives once the second run has begun. That answer belongs
        // to a run that has ended: it must neither pause the new run nor stay counted for ever. Until 2026-11-24 (fourth
        // review) it was counted as "not yet through the acknowledgement loop" in state the runs share, but written to the
        // old run's completed channel, so no loop ever took it off: the new run paused for good and sent nothing more.
        using var outbox = OutboxWithRows(2);
        var transport = new FakeMqttTransport { HoldNext = 1 };
        var drainer = transport.DrainDetections(outbox, new MemoryLoggerFactory());

        using (var first = new CancellationTokenSource())
        {
            var run = Task.Run(() => drainer.RunAsync(first.Token), CancellationToken.None);
            await Waiting.UntilAsync(() => !transport.Held.IsEmpty, "row 0 handed over in the first run", timeoutSeconds: 60);
            await first.CancelAsync();
            await run;
        }

        Assert.Equal(1, drainer.InFlight);

        // The second run starts with the link down, so the stale answer surely comes after its start.
        transport.Disconnect();
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => drainer.InFlight == 0, "the second run begun (its in-flight state cleared)", timeoutSeconds: 60);
            Assert.True(transport.Held.TryDequeue(out var stale));
            stale.SetResult(new MqttPublishOutcome(QuotaExceeded, "quota exceeded"));
            transport.Connect();

            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "both rows delivered by the second run", timeoutSeconds: 60);
            Assert.Equal(["acme/dev1/detections/0", "acme/dev1/detections/1"], transport.Delivered);
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_RowsHandedBeforeAPauseAnsweredQuotaOneByOne_PauseStaysAtItsFirstStep()
    {
        // Four rows handed over together (window 4) before the broker answers; it answers each 0x97, one by one, so the
        // acknowledgement loop sees them in four passes. All four were sent before the pause began: they are one
        // attempt, and the pause is the back-off's first step (1 s, StorageRetryBackoff.DefaultInitial). Until 2026-11-24
        // (fourth review) each pass that saw such an answer took a further step (1, 2, 4, 8 s), so a window of rows
        // refused by a rate quota paused the drainer for up to the cap (30 s) at the first sign of it.
        const int window = 4;
        using var outbox = OutboxWithRows(window + 2);
        var transport = new FakeMqttTransport { HoldNext = window };
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var drainer = transport.DrainDetections(outbox, new MemoryLoggerFactory(), clock, window);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => transport.Held.Count == window, "a window of rows handed over", timeoutSeconds: 60);
            for (var i = 1; i <= window; i++)
            {
                var passes = drainer.AckPasses;
                Assert.True(transport.Held.TryDequeue(out var answer));
                answer.SetResult(new MqttPublishOutcome(QuotaExceeded, "quota exceeded"));
                await Waiting.UntilAsync(() => drainer.HeldBack == i && drainer.AckPasses > passes, $"answer {i} through the acknowledgement loop", timeoutSeconds: 60);
            }

            Assert.Equal(window, transport.Attempts.Count);

            // The first step over: the held rows go first, then the rest.
            clock.Advance(StorageRetryBackoff.DefaultInitial);
            drainer.Wake();
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "every row delivered after the first step", timeoutSeconds: 60);
            Assert.Equal(
                [.. Enumerable.Range(0, window + 2).Select(i => $"acme/dev1/detections/{i}")],
                transport.Delivered);
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    /// <summary>Rows 0, 1, … on <paramref name="count"/> topics in an outbox whose writes give up after 1 s when locked (OutboxOptions.BusyTimeout's lowest value).</summary>
    private SqliteOutbox QuickBusyOutboxWithRows(int count)
    {
        var outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = DbPath, BusyTimeout = TimeSpan.FromSeconds(1) });
        for (var i = 0; i < count; i++)
        {
            outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = $"acme/dev1/detections/{i}", Payload = [(byte)i] });
        }

        return outbox;
    }

    [Fact]
    public async Task Drainer_RefusalStorageBackOffOutlastsAQuotaPause_QuotaHeldRowStillGoesFirst()
    {
        // Row 0 is refused (0x87) while the file is write-locked: its refusal cannot be recorded, so it is held on the
        // refusal-storage back-off, "without holding up the other rows". Row 1 is answered 0x97: all sending pauses for
        // the quota back-off's first step (1 s, StorageRetryBackoff.DefaultInitial), and row 1 must go first when it
        // ends. The storage back-off is 8 s here, the step a storage outage reaches after four failures (1, 2, 4, 8 s);
        // given as the first step so one refusal gets there. Until 2026-11-24 both kinds of held row shared one release
        // time, the later of the two: the pause ended after 1 s but row 1 stayed held for 8 s, and rows 2 and 3 went
        // ahead of it.
        using var outbox = QuickBusyOutboxWithRows(4);
        var transport = new FakeMqttTransport { HoldNext = 2 };
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var storageStep = TimeSpan.FromSeconds(8);
        var drainer = transport.DrainDetections(
            outbox, new MemoryLoggerFactory(), clock, refusalBackoff: new StorageRetryBackoff(storageStep, StorageRetryBackoff.DefaultCap));
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => transport.Held.Count == 1, "row 0 handed over", timeoutSeconds: 60);
            using (OutboxFile.LockForWriting(DbPath))
            {
                Assert.True(transport.Held.TryDequeue(out var row0));
                row0.SetResult(new MqttPublishOutcome(NotAuthorized, "not authorized"));
                await Waiting.UntilAsync(() => drainer.HeldBack == 1, "row 0's refusal not recorded, the row held back", timeoutSeconds: 60);
            }

            await Waiting.UntilAsync(() => transport.Held.Count == 1, "row 1 handed over", timeoutSeconds: 60);
            Assert.True(transport.Held.TryDequeue(out var row1));
            row1.SetResult(new MqttPublishOutcome(QuotaExceeded, "quota exceeded"));
            await Waiting.UntilAsync(() => drainer.HeldBack == 2, "row 1 held for the quota", timeoutSeconds: 60);

            // The quota pause over, the storage back-off not: row 1 goes first, then the rows behind it.
            clock.Advance(StorageRetryBackoff.DefaultInitial);
            drainer.Wake();
            await Waiting.UntilAsync(() => transport.Attempts.Count >= 3, "a row sent after the pause", timeoutSeconds: 60);
            Assert.Equal("acme/dev1/detections/1", transport.Attempts.ElementAt(2).Topic);
            await Waiting.UntilAsync(() => transport.Attempts.Count >= 5, "rows 1, 2 and 3 sent after the pause", timeoutSeconds: 60);
            Assert.Equal(
                ["acme/dev1/detections/1", "acme/dev1/detections/2", "acme/dev1/detections/3"],
                transport.Attempts.Skip(2).Select(a => a.Topic));

            // Row 0 waits out its own back-off, then goes (the storage works again) and is accepted.
            clock.Advance(storageStep);
            drainer.Wake();
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "every row delivered", timeoutSeconds: 60);
            Assert.Equal(
                ["acme/dev1/detections/1", "acme/dev1/detections/2", "acme/dev1/detections/3", "acme/dev1/detections/0"],
                transport.Delivered);
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_AckStorageFailingWhenTheBrokerNamesAQuota_PauseEndsOnItsOwnBackOff()
    {
        // Row 0 is accepted while the file is write-locked: its delete fails, and the deletes wait for the acknowledgement
        // storage's back-off (8 s here, the step a storage outage reaches after four failures, given as the first step so
        // one failure gets there). Row 1 is answered 0x97: all sending pauses for the quota back-off's first step (1 s,
        // StorageRetryBackoff.DefaultInitial). A storage failure is no broker quota: the pause must end after its 1 s.
        // Until 2026-11-24 the acknowledgement loop slept out the storage back-off before reading any answer, and the
        // pause lasts until the loop has read the quota answer: it ended only with the storage back-off (up to 30 s).
        using var outbox = QuickBusyOutboxWithRows(3);
        var transport = new FakeMqttTransport { HoldNext = 2 };
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var storageStep = TimeSpan.FromSeconds(8);
        var drainer = transport.DrainDetections(
            outbox, new MemoryLoggerFactory(), clock, ackBackoff: new StorageRetryBackoff(storageStep, StorageRetryBackoff.DefaultCap));
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        var locker = OutboxFile.LockForWriting(DbPath);
        try
        {
            await Waiting.UntilAsync(() => transport.Held.Count == 1, "row 0 handed over", timeoutSeconds: 60);
            Assert.True(transport.Held.TryDequeue(out var row0));
            var passes = drainer.AckPasses;
            row0.SetResult(new MqttPublishOutcome(0, "success"));
            await Waiting.UntilAsync(() => drainer.AwaitingDelete == 1 && drainer.AckPasses > passes, "row 0's delete failed", timeoutSeconds: 60);

            await Waiting.UntilAsync(() => transport.Held.Count == 1, "row 1 handed over", timeoutSeconds: 60);
            Assert.True(transport.Held.TryDequeue(out var row1));
            row1.SetResult(new MqttPublishOutcome(QuotaExceeded, "quota exceeded"));
            await Waiting.UntilAsync(() => drainer.HeldBack == 1, "the quota answer through the acknowledgement loop", timeoutSeconds: 60);

            // The quota's step over, the storage back-off not: row 1 goes again, then row 2; row 0 is not sent again.
            clock.Advance(StorageRetryBackoff.DefaultInitial);
            drainer.Wake();
            await Waiting.UntilAsync(() => transport.Attempts.Count >= 4, "rows 1 and 2 sent after the pause", timeoutSeconds: 60);
            Assert.Equal(
                ["acme/dev1/detections/0", "acme/dev1/detections/1", "acme/dev1/detections/1", "acme/dev1/detections/2"],
                transport.Attempts.Select(a => a.Topic));

            // The lock gone and the storage back-off over: every acknowledged row deleted, none lost, none sent twice.
            locker.Dispose();
            clock.Advance(storageStep);
            // A row is counted as sent just after its delete committed: wait for the count too, not only the empty queue.
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0 && drainer.SentTotal >= 3, "the acknowledged rows deleted and counted", timeoutSeconds: 60);
            Assert.Equal(3, drainer.SentTotal);
            Assert.Equal(4, transport.Attempts.Count);
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            locker.Dispose();
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_QuotaPauseEndsWhileTheLinkIsDown_NothingSentMeanwhileAndTheHeldRowGoesFirstAfterTheReconnect()
    {
        // Review of 2026-11-24 (sixth): rows held for a quota have their own list, released at the top of a send pass once
        // the pause has ended; a pause that ends while the link is down must neither lose the held row nor let the rows
        // behind it go first after the reconnect. The pause is StorageRetryBackoff.DefaultInitial (1 s) on a hand-moved clock.
        using var outbox = OutboxWithRows(3);
        var transport = new FakeMqttTransport { HoldNext = 1 };
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var drainer = transport.DrainDetections(outbox, new MemoryLoggerFactory(), clock);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            await Waiting.UntilAsync(() => transport.Held.Count == 1, "row 0 handed over", timeoutSeconds: 60);
            transport.Disconnect();
            Assert.True(transport.Held.TryDequeue(out var row0));
            row0.SetResult(new MqttPublishOutcome(QuotaExceeded, "quota exceeded"));
            await Waiting.UntilAsync(() => drainer.HeldBack == 1, "row 0 held for the quota", timeoutSeconds: 60);

            // The pause ends with the link still down: the send loop waits for the link, so the held row stays held.
            clock.Advance(StorageRetryBackoff.DefaultInitial);
            drainer.Wake();
            Assert.Equal(1, drainer.HeldBack);

            transport.Connect();
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "every row delivered after the reconnect", timeoutSeconds: 60);
            Assert.Equal(
                ["acme/dev1/detections/0", "acme/dev1/detections/0", "acme/dev1/detections/1", "acme/dev1/detections/2"],
                transport.Attempts.Select(a => a.Topic));
            Assert.Equal(["acme/dev1/detections/0", "acme/dev1/detections/1", "acme/dev1/detections/2"], transport.Delivered);
            Assert.Equal(0, drainer.HeldBack);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }

    [Fact]
    public async Task Drainer_StoppedDuringAQuotaPause_HeldRowStaysStoredAndTheNextRunSendsItFirst()
    {
        // Review of 2026-11-24 (sixth): the quota-held list lives in memory only; a stop during the pause must leave the
        // held row in the outbox (never deleted without its PUBACK) and the next run must send it first, after the pause.
        using var outbox = OutboxWithRows(3);
        var transport = new FakeMqttTransport { HoldNext = 1 };
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var drainer = transport.DrainDetections(outbox, new MemoryLoggerFactory(), clock);
        using (var first = new CancellationTokenSource())
        {
            var run = Task.Run(() => drainer.RunAsync(first.Token), CancellationToken.None);
            await Waiting.UntilAsync(() => transport.Held.Count == 1, "row 0 handed over", timeoutSeconds: 60);
            Assert.True(transport.Held.TryDequeue(out var row0));
            row0.SetResult(new MqttPublishOutcome(QuotaExceeded, "quota exceeded"));
            await Waiting.UntilAsync(() => drainer.HeldBack == 1, "row 0 held for the quota", timeoutSeconds: 60);
            await first.CancelAsync();
            await run;
        }

        Assert.Equal(3, outbox.GetStatistics().Depth);
        Assert.Single(transport.Attempts);

        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => drainer.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            clock.Advance(StorageRetryBackoff.DefaultInitial);
            drainer.Wake();
            await Waiting.UntilAsync(() => outbox.GetStatistics().Depth == 0, "every row delivered by the next run", timeoutSeconds: 60);
            Assert.Equal(["acme/dev1/detections/0", "acme/dev1/detections/1", "acme/dev1/detections/2"], transport.Delivered);
            Assert.Equal(0, outbox.GetStatistics().DeadLettered);
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }
}

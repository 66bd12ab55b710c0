using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Native;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Publishing;

/// <summary>
/// The send path of the outbox (reference §3.2): while connected, hand the oldest rows to the transport keeping at most
/// <c>window</c> unacknowledged; delete a row only after its PUBACK (reason &lt; 0x80), in batched transactions; a refused
/// row is counted and retried (then dead-lettered), except for the broker's own limits (0x97 quota exceeded, 0x91 packet
/// identifier in use), which hold the row back on a back-off of their own, uncounted, and pause all sending until it ends
/// (since 2026-11-24); a row whose publish throws for the
/// row itself (MOSQ_ERR_INVAL, an encoding error; logged 7039, recorded as reason 0x80) is counted like a refusal,
/// while a hand-over that fails for the link (NO_CONN, not connected) rewinds the cursor so nothing is skipped and waits
/// for the reconnect, uncounted. Rows
/// the library still holds across a reconnect stay "in flight" (libmosquitto resends them with the same mid). A storage
/// error while recording acknowledgements (a refusal that cannot be written, e.g. SQLITE_FULL moving a row to the
/// dead-letter table) never ends the acknowledgement loop: the affected rows stay queued and are sent again. A refused
/// row whose refusal cannot be recorded is held back for a back-off that doubles up to 30 s while the storage stays
/// broken (<see cref="StorageRetryBackoff"/>), without holding up the other rows; the first such failure is logged as an
/// error (7033), later ones at most once per back-off step (7035), and the recovery once (7036). A delete after PUBACK
/// that fails (7031), or a batch of acknowledgements that cannot be processed (7034), is paced the same way with its own
/// <see cref="StorageRetryBackoff"/>: the acknowledged rows stay stored and are not sent again (a restart sends them
/// again, with the msg_id they were stored with), the delete is tried again when the back-off ends, the first failure
/// is logged as an error (7031/7034), later ones at most once per step (7037), and the recovery once (7038).
/// </summary>
internal sealed class OutboxDrainer
{
    /// <summary>Longest sleep between two looks at the clock while a back-off runs: the send loop's idle wake-up, 1 s.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The reason recorded (dead_letter.last_error) for a row whose publish threw before reaching the broker: MQTT 5.0
    /// §2.4 reason 0x80 "Unspecified error", the only refusal code that claims nothing about the broker.
    /// </summary>
    private const int NotHandedOverReason = 0x80;

    /// <summary>
    /// PUBACK reasons that describe the broker's state, not the row (MQTT 5.0 §3.4.2.1): 0x91 "Packet Identifier in
    /// use" (session state out of step) and 0x97 "Quota exceeded" (an implementation or administrative limit, such as a
    /// cloud broker's publish-rate quota met while a backlog drains at full speed). Sent again unchanged the row is
    /// accepted once the condition passes, so such an answer is not counted towards <see cref="OutboxOptions.MaxAttempts"/>:
    /// until 2026-11-24 a week's backlog answered 0x97 a few times in a row was dead-lettered within seconds.
    /// </summary>
    private static readonly int[] PassingRefusalReasons = [0x91, 0x97];

    private readonly IMqttTransport _transport;
    private readonly SqliteOutbox _outbox;
    private readonly IReadOnlyCollection<OutboxKind>? _kinds;
    private readonly int _window;
    private readonly Func<OutboxRow, bool, CancellationToken, Task<MqttPublishOutcome>> _send;
    private readonly Func<bool> _canSend;
    private readonly Action<OutboxRow, bool>? _delivered;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<byte> _wake = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly HashSet<long> _inFlight = [];
    private readonly Lock _gate = new();
    private readonly StorageRetryBackoff _refusalBackoff;
    private readonly List<long> _heldBack = []; // refused rows whose refusal could not be recorded; released at _heldBackUntil
    private readonly List<long> _heldForLimit = []; // rows answered with a broker limit; released when the limit's pause ends
    private readonly HashSet<long> _releasedFromHold = [];
    private readonly StorageRetryBackoff _ackBackoff;
    private readonly StorageRetryBackoff _passingBackoff;
    private readonly HashSet<long> _awaitingDelete = [];
    private DateTimeOffset _ackRetryAt;
    private DateTimeOffset _limitQuietFrom; // when the pause of the last PUBACK naming a broker limit ends; ack loop only
    private DateTimeOffset _limitPauseUntil; // no row is handed over before this while a broker limit is named; under _gate
    private int _limitAnswersUnprocessed; // PUBACKs naming a broker limit not yet through this run's ack loop; under _gate
    private long _limitPauses; // pauses for a broker limit begun so far; a row carries the count at its hand-over; under _gate
    private int _awaitingDeleteCount;
    private long _ackPasses;
    private DateTimeOffset _heldBackUntil;
    private long _rewindTo = long.MaxValue;
    private long _sent;
    private long _refused;
    private long _sendPasses;

    public OutboxDrainer(
        IMqttTransport transport,
        SqliteOutbox outbox,
        IReadOnlyCollection<OutboxKind>? kinds,
        int window,
        Func<OutboxRow, bool, MqttOutboundMessage> encode,
        Func<bool>? canSend,
        ILogger logger,
        TimeProvider time,
        StorageRetryBackoff? refusalBackoff = null,
        StorageRetryBackoff? ackBackoff = null,
        StorageRetryBackoff? passingBackoff = null,
        Func<OutboxRow, bool, CancellationToken, Task<MqttPublishOutcome>>? send = null,
        Action<OutboxRow, bool>? delivered = null)
    {
        _transport = transport;
        _outbox = outbox;
        _kinds = kinds;
        _window = Math.Max(1, window);
        // A sender of its own lets the Sparkplug node give a row its seq and hand it over as one step (SparkplugNode.SendData).
        _send = send ?? ((row, historical, cancellationToken) => transport.PublishAsync(encode(row, historical), cancellationToken));
        _canSend = canSend ?? (() => true);
        _delivered = delivered;
        _logger = logger;
        _time = time;
        _refusalBackoff = refusalBackoff ?? new StorageRetryBackoff(StorageRetryBackoff.DefaultInitial, StorageRetryBackoff.DefaultCap);
        _ackBackoff = ackBackoff ?? new StorageRetryBackoff(StorageRetryBackoff.DefaultInitial, StorageRetryBackoff.DefaultCap);
        _passingBackoff = passingBackoff ?? new StorageRetryBackoff(StorageRetryBackoff.DefaultInitial, StorageRetryBackoff.DefaultCap);
    }

    /// <summary>Rows acknowledged and deleted since start.</summary>
    public long SentTotal => Interlocked.Read(ref _sent);

    /// <summary>Refusals (PUBACK ≥ 0x80) since start.</summary>
    public long RefusedTotal => Interlocked.Read(ref _refused);

    /// <summary>Rows handed to the transport and not yet acknowledged.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>
    /// Rows held back: refused rows whose refusal could not be recorded, until their back-off ends, and rows answered with a
    /// broker limit, until its pause ends.
    /// </summary>
    public int HeldBack
    {
        get
        {
            lock (_gate)
            {
                return _heldBack.Count + _heldForLimit.Count;
            }
        }
    }

    /// <summary>Rows the broker acknowledged whose delete failed: still stored, not sent again, deleted once the storage works.</summary>
    public int AwaitingDelete => Volatile.Read(ref _awaitingDeleteCount);

    /// <summary>Passes of the acknowledgement loop since start (each one tries the deletes that are due); lets tests wait for one.</summary>
    public long AckPasses => Interlocked.Read(ref _ackPasses);

    /// <summary>Passes of the send loop since start (each one releases held-back rows that are due); lets tests wait for one.</summary>
    public long SendPasses => Interlocked.Read(ref _sendPasses);

    /// <summary>Signals that rows were added (or the send condition changed).</summary>
    public void Wake() => _wake.Writer.TryWrite(0);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Not disposed: late PUBACK continuations may still release slots after the loop ends (no wait handle is ever created).
#pragma warning disable CA2000
        var slots = new SemaphoreSlim(_window, _window);
#pragma warning restore CA2000
        // Each run has its own acknowledgement channel and starts from a clean slate: the last one completed its channel at
        // its end, and the rows it left "in flight" or held were never to be answered in it. Until 2026-11-24 a second run
        // (a publisher stopped and started again in the same process) reused the completed channel: its rows were handed
        // over and acknowledged but never deleted, and stayed queued to be sent again at the next process start.
        var channel = Channel.CreateUnbounded<Completion>(new() { SingleReader = true });
        lock (_gate)
        {
            _inFlight.Clear();
            _heldBack.Clear();
            _heldForLimit.Clear();
            _releasedFromHold.Clear();
            _limitAnswersUnprocessed = 0;
            _rewindTo = long.MaxValue;
        }

        // Acknowledged rows whose delete failed are sent again with the msg_id they were stored with, as after a process restart.
        _awaitingDelete.Clear();
        Volatile.Write(ref _awaitingDeleteCount, 0);
        var acks = ProcessAcksAsync(channel.Reader, cancellationToken);
        long cursor = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await _transport.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
                    if (!_canSend())
                    {
                        await WaitForWorkAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    lock (_gate)
                    {
                        ReleaseHeldBackIfDue();
                        if (_rewindTo < cursor)
                        {
                            cursor = _rewindTo;
                        }

                        _rewindTo = long.MaxValue;
                    }

                    Interlocked.Increment(ref _sendPasses);
                    var rows = _outbox.ReadBatch(cursor, _window * 4, _kinds);
                    var handed = 0;
                    foreach (var row in rows)
                    {
                        lock (_gate)
                        {
                            if (_inFlight.Contains(row.Id))
                            {
                                cursor = Math.Max(cursor, row.Id);
                                continue;
                            }
                        }

                        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                        var connectedSince = _transport.ConnectedSince;
                        if (connectedSince is null)
                        {
                            slots.Release();
                            break;
                        }

                        bool paused;
                        long pausesBefore;
                        lock (_gate)
                        {
                            paused = LimitPauseRunning();
                            pausesBefore = _limitPauses;
                            if (!paused)
                            {
                                _inFlight.Add(row.Id);
                            }
                        }

                        if (paused)
                        {
                            // The broker named a limit of its own (0x97 quota): nothing more goes until its back-off ends,
                            // when the held rows go first (ReleaseHeldBackIfDue rewinds the cursor to them).
                            slots.Release();
                            break;
                        }

                        cursor = Math.Max(cursor, row.Id);
                        handed++;
                        Hand(row, IsHistorical(row.CreatedUtc, connectedSince.Value), pausesBefore, slots, channel.Writer, cancellationToken);
                    }

                    if (handed == 0)
                    {
                        await WaitForWorkAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // The send loop must survive a transient SQLite or transport error; it logs and retries.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.PublisherLoopFailed(_logger, ex);
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            channel.Writer.TryComplete();
            try
            {
                await acks.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// Whether a row goes out as historical: stored before the current connection began. A row keeps its enqueue time in
    /// whole milliseconds (<c>created_utc</c>) and the connection's start has the clock's full precision, so the two are
    /// compared in milliseconds: compared as they were (until 2026-11-25), a row stored within the same millisecond
    /// after the connect read as older than it, and a live detection went out marked historical (a fresh-clone CI run,
    /// <c>LatestDetection_BrokerRestartedWithoutPersistence_…</c>, which stores one right after the connect). A row
    /// stored in the same millisecond just before the connect now goes out live, which it practically is.
    /// </summary>
    internal static bool IsHistorical(DateTimeOffset createdUtc, DateTimeOffset connectedSince) =>
        createdUtc.ToUnixTimeMilliseconds() < connectedSince.ToUnixTimeMilliseconds();

    private void Hand(OutboxRow row, bool historical, long pausesBefore, SemaphoreSlim slots, ChannelWriter<Completion> acks, CancellationToken cancellationToken)
    {
        try
        {
            var task = _send(row, historical, cancellationToken);
            _ = task.ContinueWith(
                t =>
                {
                    var completion = t.IsCompletedSuccessfully
                        ? new Completion(row, t.Result, null, pausesBefore, historical)
                        : new Completion(row, null, t.Exception?.GetBaseException() ?? new OperationCanceledException(), pausesBefore, historical);

                    // A named broker limit pauses the send loop from this answer on, before the slot it frees can carry
                    // the next row: the acknowledgement loop, which sets the pause's end, sees the answer only up to 20 ms
                    // later. It is counted only if this run's acknowledgement loop will take it off again: an answer that
                    // comes after its run ended (its channel completed) belongs to no loop. Until 2026-11-24 (fourth review)
                    // it was counted regardless, in state the runs share: a quota answer for a stopped run's row that came
                    // after the next run had begun paused that run for good.
                    lock (_gate)
                    {
                        if (acks.TryWrite(completion) && completion.Outcome is { } answer && IsBrokerLimit(answer))
                        {
                            _limitAnswersUnprocessed++;
                        }
                    }

                    // The window slot frees on the broker's answer; the row stays "in flight" (not re-read) until deleted.
                    slots.Release();
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
#pragma warning disable CA1031 // Any hand-over failure is answered for this row below; the send loop must go on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            slots.Release();

            // A lost link (QoS 0 offline, NO_CONN, the transport stopping) is no fault of the row: it is sent again after
            // the reconnect, uncounted. Anything else (MOSQ_ERR_INVAL for a topic libmosquitto rejects, an encoding
            // error) would fail the same way at every try: it is counted and dead-lettered like a broker refusal, or the
            // row would be handed over again at once, for ever, without a log (found 2026-11-23).
            acks.TryWrite(IsLinkFailure(ex) ? new Completion(row, null, ex, pausesBefore, historical) : new Completion(row, new MqttPublishOutcome(NotHandedOverReason, "not handed over: " + ex.Message), ex, pausesBefore, historical));
        }
    }

    /// <summary>True for a PUBACK reason that names a limit of the broker's own (<see cref="PassingRefusalReasons"/>).</summary>
    private static bool IsBrokerLimit(MqttPublishOutcome outcome) => PassingRefusalReasons.Contains(outcome.ReasonCode);

    /// <summary>True from a PUBACK naming a broker limit until the end of the back-off the acknowledgement loop set for it (under the gate).</summary>
    private bool LimitPauseLasts(DateTimeOffset now) => _limitAnswersUnprocessed > 0 || now < _limitPauseUntil;

    /// <summary>
    /// True while a broker limit pauses all sending (called under the gate): from the PUBACK that named it until the end of
    /// the back-off the acknowledgement loop set for it, and then until the rows it held are back in the queue. Until
    /// 2026-11-24 only the refused rows waited, and the rows behind them were handed over at full speed meanwhile, each
    /// refused and held in turn: a broker enforcing a publish-rate quota was hammered for the whole spell.
    /// </summary>
    /// <remarks>
    /// The held rows are put back at the top of a send pass (<see cref="ReleaseHeldBackIfDue"/>) while the pause is checked
    /// per row: without the held rows' term, a pause that ended between the two let the rows behind the held ones go first.
    /// </remarks>
    private bool LimitPauseRunning() => LimitPauseLasts(_time.GetUtcNow()) || _heldForLimit.Count > 0;

    /// <summary>
    /// True when a publish that threw failed for the connection, not for the row: cancelled, the transport disposed,
    /// libmosquitto's MOSQ_ERR_NO_CONN (4) or MOSQ_ERR_CONN_LOST (7), or the transport no longer connected.
    /// </summary>
    private bool IsLinkFailure(Exception error) =>
        error is OperationCanceledException or ObjectDisposedException
        || error is MqttException { ErrorCode: LibMosquitto.ErrNoConn or LibMosquitto.ErrConnLost }
        || _transport.ConnectedSince is null;

    private async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(TimeSpan.FromSeconds(1), _time, timeout.Token);
        var woken = _wake.Reader.WaitToReadAsync(timeout.Token).AsTask();
        await Task.WhenAny(delay, woken).ConfigureAwait(false);
        await timeout.CancelAsync().ConfigureAwait(false);
        _wake.Reader.TryRead(out _);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task ProcessAcksAsync(ChannelReader<Completion> acks, CancellationToken cancellationToken)
    {
        var batch = new List<Completion>(256);
        var retry = new List<long>(16);
        var unrecorded = new List<(OutboxRow Row, MqttPublishOutcome Refusal, Exception Error)>(4);
        var passing = new List<(OutboxRow Row, MqttPublishOutcome Refusal)>(4);
        while (true)
        {
            if (_ackBackoff.Failing && !cancellationToken.IsCancellationRequested)
            {
                // The acknowledgement storage is failing (7031/7034): no delete is tried again before the back-off ends
                // (DeleteAcknowledged), but the broker's answers are still read as they come. A quota answer pauses all
                // sending until this loop has read it: until 2026-11-24 the loop slept out the storage back-off (up to
                // 30 s) before reading any, so a storage failure, no limit of the broker's, lengthened a 1-s quota pause.
                await WaitForAnswersUntilAsync(acks, _ackRetryAt, cancellationToken).ConfigureAwait(false);
            }

            // Rows awaiting their delete need no new acknowledgement to be retried; at stop they stay queued and are sent
            // again after the restart, with the msg_id they were stored with.
            if (_awaitingDelete.Count == 0 || cancellationToken.IsCancellationRequested)
            {
                if (!await acks.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    break;
                }
            }
            else if (acks.Completion.IsCompleted)
            {
                break;
            }

            Interlocked.Increment(ref _ackPasses);
            batch.Clear();
            retry.Clear();
            unrecorded.Clear();
            passing.Clear();
            var freshLimit = false;
            while (batch.Count < 1024 && acks.TryRead(out var completion))
            {
                batch.Add(completion);
            }

            // Give more acknowledgements up to 20 ms to arrive: one fsync'd delete per batch instead of one per message
            // (reference §3.2 "batch deletes in one transaction every ~100 ms"); the window keeps flowing meanwhile.
            if (batch.Count is > 0 and < 64 && !cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                while (batch.Count < 1024 && acks.TryRead(out var completion))
                {
                    batch.Add(completion);
                }
            }

            var refusalRecorded = false;
            Exception? batchError = null;
            try
            {
                foreach (var c in batch)
                {
                    if (c.Outcome is { Accepted: true })
                    {
                        // Acknowledged: deleted below, and never sent again while this process runs, even when the delete
                        // fails (the broker has it; a second copy would only be a duplicate for consumers to drop).
                        _awaitingDelete.Add(c.Row.Id);
                    }
                    else if (c.Outcome is { } limited && c.Error is null && IsBrokerLimit(limited))
                    {
                        // The broker's limit, not the row's fault: held back (below), not counted, never dead-lettered.
                        Interlocked.Increment(ref _refused);
                        passing.Add((c.Row, limited));

                        // Only an answer to a row handed over since the last pause began is news: the rows already with
                        // the broker when it began were the same attempt (see the back-off step below).
                        freshLimit |= c.PausesBefore == _limitPauses;
                    }
                    else if (c.Outcome is { } refused)
                    {
                        Interlocked.Increment(ref _refused);
                        if (TryRecordRefusal(c.Row, refused, c.Error, out var dead, out var error))
                        {
                            refusalRecorded = true;
                            if (!dead)
                            {
                                retry.Add(c.Row.Id);
                            }
                        }
                        else
                        {
                            // Its transaction rolled back: the row stays queued with the attempt uncounted. Sent again at
                            // once it would be refused again within milliseconds, so it is held back (below) instead.
                            unrecorded.Add((c.Row, refused, error));
                        }
                    }
                    else
                    {
                        // Not acknowledged (transport stopped, QoS 0 offline, cancelled): send again later.
                        retry.Add(c.Row.Id);
                    }
                }
            }
#pragma warning disable CA1031 // Whatever else fails, the loop must go on: ending it would stall the send loop for good.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // The acknowledged rows still wait for their delete; every other row of the batch is sent again
                // (at-least-once, never skipped).
                batchError = ex;
                unrecorded.Clear();
                passing.Clear();
                freshLimit = false;
                retry.Clear();
                foreach (var c in batch)
                {
                    if (c.Outcome is { Accepted: true })
                    {
                        _awaitingDelete.Add(c.Row.Id);
                    }
                    else
                    {
                        retry.Add(c.Row.Id);
                    }
                }
            }

            var now = _time.GetUtcNow();
            var (deleted, deleteError) = DeleteAcknowledged(now);
            var ackStep = (batchError ?? deleteError) is not null ? _ackBackoff.Fail(now) : (StorageRetryBackoff.Step?)null;
            if (ackStep is { } failedStep)
            {
                _ackRetryAt = now + failedStep.Delay;
            }

            var step = unrecorded.Count > 0 ? _refusalBackoff.Fail(now) : (StorageRetryBackoff.Step?)null;
            // One back-off step per pause: answers to rows handed over before the current pause began hold their rows until
            // it ends but take no further step. Until 2026-11-24 (fourth review) every pass that saw such an answer took a
            // step, so a window of rows refused one by one paused the drainer for 1+2+4+8… up to 30 s at once.
            var passingStep = freshLimit ? _passingBackoff.Fail(now) : (StorageRetryBackoff.Step?)null;
            var brokerAccepted = false;
            var acceptedAfterHold = false;
            int heldBack;
            int heldForLimit;
            lock (_gate)
            {
                foreach (var c in batch)
                {
                    if (!_awaitingDelete.Contains(c.Row.Id))
                    {
                        _inFlight.Remove(c.Row.Id);
                    }

                    if (c.Outcome is not null && _releasedFromHold.Remove(c.Row.Id))
                    {
                        acceptedAfterHold |= c.Outcome.Accepted;
                    }

                    brokerAccepted |= c.Outcome is { Accepted: true };
                    if (c.Outcome is { } answer && c.Error is null && IsBrokerLimit(answer))
                    {
                        _limitAnswersUnprocessed--;
                    }
                }

                // Deleted rows leave the in-flight set only now: until then the send loop must not read them again.
                foreach (var id in deleted)
                {
                    _inFlight.Remove(id);
                }

                // Held rows stay "in flight", so the send loop skips them, until the back-off ends (ReleaseHeldBackIfDue).
                foreach (var u in unrecorded)
                {
                    _inFlight.Add(u.Row.Id);
                    _heldBack.Add(u.Row.Id);
                }

                foreach (var p in passing)
                {
                    _inFlight.Add(p.Row.Id);
                    _heldForLimit.Add(p.Row.Id);
                }

                if (step is { } held)
                {
                    _heldBackUntil = now + held.Delay;
                }

                // Rows held for a limit go back when its pause ends, rows held for the storage when their own back-off ends.
                // Until 2026-11-24 both shared one release time, the later of the two: a storage back-off longer than the
                // pause kept the quota-held rows back after it, and the rows behind them went first.
                if (passingStep is { } limit)
                {
                    if (now + limit.Delay > _limitPauseUntil)
                    {
                        _limitPauseUntil = now + limit.Delay;
                    }

                    _limitPauses++;
                }

                heldBack = _heldBack.Count;
                heldForLimit = _heldForLimit.Count;

                // Only after the ids left the in-flight set, or the send loop could skip them past the rewound cursor.
                foreach (var id in retry)
                {
                    _rewindTo = Math.Min(_rewindTo, id - 1);
                }
            }

            Interlocked.Add(ref _sent, deleted.Count);
            Volatile.Write(ref _awaitingDeleteCount, _awaitingDelete.Count);
            ReportDelivered(batch);
            ReportRefusalStorage(step, unrecorded, heldBack, refusalRecorded || acceptedAfterHold, now);
            ReportPassingRefusals(passingStep, passing, heldForLimit, brokerAccepted, now);
            ReportAckStorage(ackStep, batchError ?? deleteError, batchError is not null, batch.Count, batchError is null && _awaitingDelete.Count == 0, now);
            Wake();
        }
    }

    /// <summary>
    /// Tells the <c>delivered</c> handler of each row the broker accepted in this batch, in the order the answers came
    /// (the publisher's retained latest detection). The handler works in memory; should it throw, the rows stand as
    /// processed: the outbox row is the record, the handler's work best effort (7063).
    /// </summary>
    private void ReportDelivered(List<Completion> batch)
    {
        if (_delivered is null)
        {
            return;
        }

        foreach (var c in batch)
        {
            if (c.Outcome is { Accepted: true })
            {
                try
                {
                    _delivered(c.Row, c.Historical);
                }
#pragma warning disable CA1031 // The acknowledgement loop must go on whatever a handler does.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.DeliveredHandlerFailed(_logger, c.Row.Id, c.Row.Topic, ex);
                }
            }
        }
    }

    /// <summary>
    /// Deletes the acknowledged rows in one transaction, unless a back-off from an earlier failure is still running; the
    /// ids deleted, or the error. Rows whose delete failed stay in the outbox and in <see cref="_awaitingDelete"/>: they
    /// are neither lost nor sent again here, and only a restart sends them again (the same row, so the same msg_id).
    /// </summary>
    private (List<long> Deleted, Exception? Error) DeleteAcknowledged(DateTimeOffset now)
    {
        if (_awaitingDelete.Count == 0 || (_ackBackoff.Failing && now < _ackRetryAt))
        {
            return ([], null);
        }

        try
        {
            // Not waiting for a lock held elsewhere (since 2026-11-24): the busy timeout (5 s) stopped this loop reading answers.
            _outbox.Delete(_awaitingDelete, waitForLock: false);
        }
#pragma warning disable CA1031 // SqliteException (full, busy, I/O), ObjectDisposedException: all mean "not deleted, retry later".
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ([], ex);
        }

        List<long> deleted = [.. _awaitingDelete];
        _awaitingDelete.Clear();
        return (deleted, null);
    }

    /// <summary>
    /// Logs the acknowledgement-storage failures within <see cref="_ackBackoff"/>'s budget: the first of an outage in full
    /// (7034 when a whole batch failed, else 7031 for the delete), later ones at most once per back-off step (7037), and
    /// the end of the outage once (7038), when a batch was processed and nothing waits for its delete any more.
    /// </summary>
    private void ReportAckStorage(StorageRetryBackoff.Step? step, Exception? error, bool wholeBatch, int batchCount, bool succeeded, DateTimeOffset now)
    {
        if (step is { } failed && error is not null)
        {
            if (failed.Report == StorageRetryBackoff.Report.First)
            {
                if (wholeBatch)
                {
                    Log.AckBatchFailed(_logger, batchCount, error);
                }
                else
                {
                    Log.PublisherLoopFailed(_logger, error);
                }
            }
            else if (failed.Report == StorageRetryBackoff.Report.StillFailing)
            {
                Log.AckStorageStillFailing(_logger, failed.Failures, failed.Since, _awaitingDelete.Count, failed.Delay.TotalSeconds, error.Message);
            }

            return;
        }

        if (succeeded && _ackBackoff.Succeed(now) is { } outage)
        {
            Log.AckStorageRecovered(_logger, outage.Failures, outage.Duration.TotalSeconds);
        }
    }

    /// <summary>
    /// Waits until <paramref name="due"/> on the drainer's clock (<see cref="WaitUntilAsync"/>) or until an answer can be
    /// read, whichever comes first; returns early, without throwing, when the drainer is stopped.
    /// </summary>
    private async Task WaitForAnswersUntilAsync(ChannelReader<Completion> acks, DateTimeOffset due, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var answer = acks.WaitToReadAsync(either.Token).AsTask();
        await Task.WhenAny(answer, WaitUntilAsync(due, either.Token)).ConfigureAwait(false);
        await either.CancelAsync().ConfigureAwait(false);
        try
        {
            await answer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Waits until <paramref name="due"/> on the drainer's clock, checking it at least once a second (timers are real
    /// even under a test's hand-moved clock). Returns early, without throwing, when the drainer is stopped.
    /// </summary>
    private async Task WaitUntilAsync(DateTimeOffset due, CancellationToken cancellationToken)
    {
        try
        {
            for (var left = due - _time.GetUtcNow(); left > TimeSpan.Zero; left = due - _time.GetUtcNow())
            {
                await Task.Delay(left < PollInterval ? left : PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Puts the held-back rows back in the queue once their wait has ended (called by the send loop under the gate): rows
    /// held for the storage at the end of their back-off, rows held for a broker limit at the end of its pause; out of the
    /// in-flight set and the cursor rewound, so the next read sends them again, ahead of the rows behind them.
    /// </summary>
    private void ReleaseHeldBackIfDue()
    {
        var now = _time.GetUtcNow();
        if (_heldBack.Count > 0 && now >= _heldBackUntil)
        {
            Release(_heldBack);
        }

        if (_heldForLimit.Count > 0 && !LimitPauseLasts(now))
        {
            Release(_heldForLimit);
        }

        void Release(List<long> held)
        {
            foreach (var id in held)
            {
                _inFlight.Remove(id);
                _releasedFromHold.Add(id);
                _rewindTo = Math.Min(_rewindTo, id - 1);
            }

            held.Clear();
        }
    }

    /// <summary>
    /// Logs the refusal-recording failures of one batch within the back-off's budget: the first of an outage in full
    /// (7033, error), later ones at most once per back-off step (7035), and the end of the outage once (7036), when a
    /// refusal was recorded again or a held-back row was accepted after all.
    /// </summary>
    private void ReportRefusalStorage(StorageRetryBackoff.Step? step, List<(OutboxRow Row, MqttPublishOutcome Refusal, Exception Error)> unrecorded, int heldBack, bool succeeded, DateTimeOffset now)
    {
        if (step is { } failed)
        {
            var (row, refusal, error) = unrecorded[0];
            if (failed.Report == StorageRetryBackoff.Report.First)
            {
                Log.RefusalNotRecorded(_logger, row.Id, row.Topic, refusal.ReasonCode, error);
            }
            else if (failed.Report == StorageRetryBackoff.Report.StillFailing)
            {
                Log.RefusalStillNotRecorded(_logger, failed.Failures, failed.Since, heldBack, failed.Delay.TotalSeconds, error.Message);
            }

            return;
        }

        if (succeeded && _refusalBackoff.Succeed(now) is { } outage)
        {
            Log.RefusalRecordingRecovered(_logger, outage.Failures, outage.Duration.TotalSeconds);
        }
    }

    /// <summary>
    /// Logs the broker's answers that name a limit of its own (<see cref="PassingRefusalReasons"/>) within
    /// <see cref="_passingBackoff"/>'s budget: the first of a spell in full (7029), later ones at most once per back-off
    /// step (7045), and the end of the spell once (7046), when the broker accepts a row sent at least the back-off's cap
    /// (30 s) after the last pause ended with no limit named since. A quota lets some rows through between its refusals;
    /// until 2026-11-24 (second review) each accepted row ended the spell and the next refusal began a new one, so a
    /// throttled backlog logged 7029 and 7046 for about every row, and the back-off never grew past its first second.
    /// Since sends pause for the back-off (2026-11-24, third review), the quiet time counts from the pause's end: counted
    /// from the last limit named, the first row accepted after a 30-s pause would end every spell.
    /// </summary>
    private void ReportPassingRefusals(StorageRetryBackoff.Step? step, List<(OutboxRow Row, MqttPublishOutcome Refusal)> passing, int heldBack, bool accepted, DateTimeOffset now)
    {
        if (step is { } limited)
        {
            if (now + limited.Delay > _limitQuietFrom)
            {
                _limitQuietFrom = now + limited.Delay;
            }
            var (row, refusal) = passing[0];
            if (limited.Report == StorageRetryBackoff.Report.First)
            {
                Log.PassingRefusal(_logger, row.Id, row.Topic, refusal.ReasonCode, refusal.Description);
            }
            else if (limited.Report == StorageRetryBackoff.Report.StillFailing)
            {
                Log.PassingRefusalStill(_logger, refusal.ReasonCode, limited.Failures, limited.Since, heldBack, limited.Delay.TotalSeconds);
            }

            return;
        }

        if (passing.Count > 0)
        {
            // A limit named for a row sent before the current pause began: no new step, but no quiet either.
            if (now > _limitQuietFrom)
            {
                _limitQuietFrom = now;
            }

            return;
        }

        if (accepted && now - _limitQuietFrom >= _passingBackoff.Cap && _passingBackoff.Succeed(now) is { } spell)
        {
            Log.PassingRefusalEnded(_logger, spell.Failures, spell.Duration.TotalSeconds);
        }
    }

    /// <summary>
    /// Records a refusal, or a publish that threw for this row (<paramref name="thrown"/>, logged as 7039); false with the
    /// error when the outbox could not, e.g. SQLITE_FULL on the dead-letter move.
    /// </summary>
    private bool TryRecordRefusal(OutboxRow row, MqttPublishOutcome refused, Exception? thrown, out bool dead, [NotNullWhen(false)] out Exception? error)
    {
        try
        {
            // Not waiting for a lock held elsewhere (since 2026-11-24): this loop read no answer for the busy timeout (5 s)
            // per refusal; a refusal not recorded holds its row back, to be sent again and its refusal recorded then.
            dead = _outbox.RecordRefusal(row.Id, refused.ReasonCode, waitForLock: false);
        }
#pragma warning disable CA1031 // SqliteException, OutboxFullException, ObjectDisposedException: all mean "not recorded, retry later".
        catch (Exception ex)
#pragma warning restore CA1031
        {
            dead = false;
            error = ex;
            return false;
        }

        if (thrown is null)
        {
            Log.PublishRefused(_logger, row.Id, row.Topic, refused.ReasonCode, refused.Description, dead);
        }
        else
        {
            Log.PublishThrew(_logger, row.Id, row.Topic, dead, thrown);
        }

        error = null;
        return true;
    }

    /// <summary>
    /// A row's answer; <paramref name="PausesBefore"/> is the count of broker-limit pauses begun before its hand-over,
    /// <paramref name="Historical"/> whether it was sent as historical.
    /// </summary>
    private sealed record Completion(OutboxRow Row, MqttPublishOutcome? Outcome, Exception? Error, long PausesBefore, bool Historical);
}

using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Publishing;

/// <summary>
/// The send path of the outbox (reference §3.2): while connected, hand the oldest rows to the transport keeping at most
/// <c>window</c> unacknowledged; delete a row only after its PUBACK (reason &lt; 0x80), in batched transactions; a refused
/// row is counted and retried (then dead-lettered), a failed hand-over rewinds the cursor so nothing is skipped. Rows
/// the library still holds across a reconnect stay "in flight" (libmosquitto resends them with the same mid). A storage
/// error while recording acknowledgements (a refusal that cannot be written, e.g. SQLITE_FULL moving a row to the
/// dead-letter table) never ends the acknowledgement loop: the affected rows stay queued and are sent again.
/// </summary>
internal sealed class OutboxDrainer
{
    /// <summary>Pause of the acknowledgement loop after the outbox failed to record a batch (same as the send loop's).</summary>
    private static readonly TimeSpan StorageRetryDelay = TimeSpan.FromSeconds(1);

    private readonly IMqttTransport _transport;
    private readonly SqliteOutbox _outbox;
    private readonly IReadOnlyCollection<OutboxKind>? _kinds;
    private readonly int _window;
    private readonly Func<OutboxRow, bool, MqttOutboundMessage> _encode;
    private readonly Func<bool> _canSend;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<byte> _wake = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<Completion> _acks = Channel.CreateUnbounded<Completion>(new() { SingleReader = true });
    private readonly HashSet<long> _inFlight = [];
    private readonly Lock _gate = new();
    private long _rewindTo = long.MaxValue;
    private long _sent;
    private long _refused;

    public OutboxDrainer(
        IMqttTransport transport,
        SqliteOutbox outbox,
        IReadOnlyCollection<OutboxKind>? kinds,
        int window,
        Func<OutboxRow, bool, MqttOutboundMessage> encode,
        Func<bool>? canSend,
        ILogger logger,
        TimeProvider time)
    {
        _transport = transport;
        _outbox = outbox;
        _kinds = kinds;
        _window = Math.Max(1, window);
        _encode = encode;
        _canSend = canSend ?? (() => true);
        _logger = logger;
        _time = time;
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

    /// <summary>Signals that rows were added (or the send condition changed).</summary>
    public void Wake() => _wake.Writer.TryWrite(0);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Not disposed: late PUBACK continuations may still release slots after the loop ends (no wait handle is ever created).
#pragma warning disable CA2000
        var slots = new SemaphoreSlim(_window, _window);
#pragma warning restore CA2000
        var acks = ProcessAcksAsync(cancellationToken);
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
                        if (_rewindTo < cursor)
                        {
                            cursor = _rewindTo;
                        }

                        _rewindTo = long.MaxValue;
                    }

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

                        lock (_gate)
                        {
                            _inFlight.Add(row.Id);
                        }

                        cursor = Math.Max(cursor, row.Id);
                        handed++;
                        Hand(row, row.CreatedUtc < connectedSince.Value, slots, cancellationToken);
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
            _acks.Writer.TryComplete();
            try
            {
                await acks.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void Hand(OutboxRow row, bool historical, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        try
        {
            var task = _transport.PublishAsync(_encode(row, historical), cancellationToken);
            _ = task.ContinueWith(
                t =>
                {
                    // The window slot frees on the broker's answer; the row stays "in flight" (not re-read) until deleted.
                    slots.Release();
                    _acks.Writer.TryWrite(t.IsCompletedSuccessfully ? new Completion(row, t.Result, null) : new Completion(row, null, t.Exception?.GetBaseException() ?? new OperationCanceledException()));
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
#pragma warning disable CA1031 // A refused hand-over (e.g. QoS 0 while the link dropped) rewinds; the row stays stored.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            slots.Release();
            _acks.Writer.TryWrite(new Completion(row, null, ex));
        }
    }

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

    private async Task ProcessAcksAsync(CancellationToken cancellationToken)
    {
        var batch = new List<Completion>(256);
        var delete = new List<long>(256);
        var retry = new List<long>(16);
        while (await _acks.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            batch.Clear();
            delete.Clear();
            retry.Clear();
            while (batch.Count < 1024 && _acks.Reader.TryRead(out var completion))
            {
                batch.Add(completion);
            }

            // Give more acknowledgements up to 20 ms to arrive: one fsync'd delete per batch instead of one per message
            // (reference §3.2 "batch deletes in one transaction every ~100 ms"); the window keeps flowing meanwhile.
            if (batch.Count < 64 && !cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                while (batch.Count < 1024 && _acks.Reader.TryRead(out var completion))
                {
                    batch.Add(completion);
                }
            }

            var deleted = 0;
            var storageFailed = false;
            try
            {
                foreach (var c in batch)
                {
                    if (c.Outcome is { Accepted: true })
                    {
                        delete.Add(c.Row.Id);
                    }
                    else if (c.Outcome is { } refused)
                    {
                        Interlocked.Increment(ref _refused);
                        if (TryRecordRefusal(c.Row, refused, out var dead))
                        {
                            if (!dead)
                            {
                                retry.Add(c.Row.Id);
                            }
                        }
                        else
                        {
                            // Its transaction rolled back: the row stays queued, the attempt uncounted, and it is sent again.
                            storageFailed = true;
                            retry.Add(c.Row.Id);
                        }
                    }
                    else
                    {
                        // Not acknowledged (transport stopped, QoS 0 offline, cancelled): send again later.
                        retry.Add(c.Row.Id);
                    }
                }

                try
                {
                    _outbox.Delete(delete);
                    deleted = delete.Count;
                }
#pragma warning disable CA1031 // If the delete fails the rows are sent again (at-least-once); never lose the ack loop.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.PublisherLoopFailed(_logger, ex);
                    storageFailed = true;
                    retry.AddRange(delete);
                }
            }
#pragma warning disable CA1031 // Whatever else fails, the loop must go on: ending it would stall the send loop for good.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Nothing of this batch was deleted: every row is sent again (at-least-once, never skipped).
                Log.AckBatchFailed(_logger, batch.Count, ex);
                storageFailed = true;
                retry.Clear();
                retry.AddRange(batch.Select(c => c.Row.Id));
            }

            lock (_gate)
            {
                foreach (var c in batch)
                {
                    _inFlight.Remove(c.Row.Id);
                }

                // Only after the ids left the in-flight set, or the send loop could skip them past the rewound cursor.
                foreach (var id in retry)
                {
                    _rewindTo = Math.Min(_rewindTo, id - 1);
                }
            }

            Interlocked.Add(ref _sent, deleted);
            Wake();
            if (storageFailed && !cancellationToken.IsCancellationRequested)
            {
                // The rewound rows go out again at once and a refused one comes straight back; pausing here bounds that
                // round (and its error log) to one per second while the storage stays broken.
                try
                {
                    await Task.Delay(StorageRetryDelay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Records a refusal; false (logged) when the outbox could not, e.g. SQLITE_FULL on the dead-letter move.</summary>
    private bool TryRecordRefusal(OutboxRow row, MqttPublishOutcome refused, out bool dead)
    {
        try
        {
            dead = _outbox.RecordRefusal(row.Id, refused.ReasonCode);
        }
#pragma warning disable CA1031 // SqliteException, OutboxFullException, ObjectDisposedException: all mean "not recorded, retry later".
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RefusalNotRecorded(_logger, row.Id, row.Topic, refused.ReasonCode, ex);
            dead = false;
            return false;
        }

        Log.PublishRefused(_logger, row.Id, row.Topic, refused.ReasonCode, refused.Description, dead);
        return true;
    }

    private sealed record Completion(OutboxRow Row, MqttPublishOutcome? Outcome, Exception? Error);
}

using System.Threading.Channels;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// Start and stop requests for measurements, from the trigger input, MQTT commands and the interlock. Start requests
/// go through a channel of capacity 1 with <see cref="BoundedChannelFullMode.DropWrite"/>: pressing the trigger again
/// while a start is already pending does not queue a second measurement. A stop or an open interlock cancels the
/// running measurement at once. With Acquisition:AutoStart the auto-start is pending from construction until the
/// acquisition worker requests it (<see cref="TryRequestAutoStart"/>, once its source answers); a stop before then
/// cancels it for good.
/// </summary>
/// <param name="autoStart">Acquisition:AutoStart: an auto-start is pending.</param>
internal sealed class MeasurementControl(bool autoStart = false)
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _autoStartCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _autoStartPending = autoStart;
    private string? _autoStartCancelledBy;
    private readonly Channel<StartRequest> _starts = Channel.CreateBounded<StartRequest>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private CancellationTokenSource? _current;
    private string? _abortReason;

    /// <summary>An abort that came during a run while none of its measurements was current: the run's next one ends with it.</summary>
    private string? _pendingAbort;

    /// <summary>Completed when <see cref="_pendingAbort"/> is set; renewed by <see cref="Begin"/> and <see cref="RunStarted"/>.</summary>
    private TaskCompletionSource _pendingAbortArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _running;
    private volatile string? _run;
    private volatile string? _stopReason;

    /// <summary>Requests one measurement (Triggered) or starts the loop (Continuous, Scan); <paramref name="origin"/> is logged ("trigger", "auto-start").</summary>
    /// <param name="origin">Who asked.</param>
    /// <returns>False when a start was already pending (the request is merged into it).</returns>
    public bool RequestStart(string origin) => RequestStart(new StartRequest(origin));

    /// <summary>Requests a start with its own preset and sample id (MQTT <c>start</c>).</summary>
    /// <returns>False when a start was already pending: <paramref name="request"/> is then refused, not merged, since its sample id would be lost.</returns>
    public bool RequestStart(StartRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Under the gate with RunStarted: the start is either queued before the run is marked (and dropped there) or sees
        // the run (and is refused here). Checked and queued unserialised, until 2026-11-24 a start could read "no run",
        // lose the processor while RunStarted marked the run and emptied the queue, and then queue itself behind the run.
        lock (_gate)
        {
            return RequestStartLocked(request);
        }
    }

    private bool RequestStartLocked(StartRequest request)
    {
        if (_run is { } run)
        {
            // Queued, it would only be answered by the stop that ends the run, and then refused (until 2026-11). A run
            // that was stopped and is still ending (the MCA being disabled) says so: until 2026-11-24 the refusal told
            // an operator who had just sent stop to send stop first.
            request.Refuse(_running
                ? $"A {run} is already in progress; send stop first (starts are not queued behind one)."
                : $"A {run} is still stopping; send the start again once it has ended (starts are not queued behind one).");
            return false;
        }

        _running = true;
        if (_starts.Writer.TryWrite(request))
        {
            return true;
        }

        request.Refuse("A measurement start is already pending; this start was not queued.");
        return false;
    }

    /// <summary>
    /// Stops the running measurement (recorded as aborted with <paramref name="reason"/>) and, in Continuous/Scan mode, the
    /// loop; drops a pending start, and cancels a pending auto-start (<see cref="AutoStartCancelledBy"/>). Until
    /// 2026-11-24 an auto-start waiting for its DP5 was not pending anywhere a stop could reach: the run began anyway as
    /// soon as the DP5 answered.
    /// </summary>
    public void RequestStop(string reason)
    {
        bool cancelledAutoStart;
        lock (_gate)
        {
            // Under the gate with TryRequestAutoStart: the stop comes either before the auto-start is queued (and
            // cancels it) or after (and drops it from the queue below, or stops the run it began).
            _stopReason = reason;
            _running = false;
            cancelledAutoStart = _autoStartPending;
            if (cancelledAutoStart)
            {
                _autoStartPending = false;
                _autoStartCancelledBy = reason;
            }

            ClearPendingStart("stopped before it began: " + reason);
        }

        if (cancelledAutoStart)
        {
            _autoStartCancelled.TrySetResult(); // wakes the worker's wait for its source, which reads the state above
        }

        Abort(reason);
    }

    /// <summary>True while an auto-start is pending: AutoStart is on, the worker has not requested it yet, and no stop came.</summary>
    public bool AutoStartPending
    {
        get
        {
            lock (_gate)
            {
                return _autoStartPending;
            }
        }
    }

    /// <summary>The reason of the stop that cancelled the pending auto-start, or null.</summary>
    public string? AutoStartCancelledBy
    {
        get
        {
            lock (_gate)
            {
                return _autoStartCancelledBy;
            }
        }
    }

    /// <summary>Completes when a stop cancels the pending auto-start (the worker's wait for its source listens to it).</summary>
    public Task AutoStartCancelled => _autoStartCancelled.Task;

    /// <summary>
    /// Requests the pending auto-start (origin "auto-start"), once. False when there is none: AutoStart is off, it was
    /// requested already, or a stop cancelled it. A start already queued (a trigger press while the worker waited for
    /// its source) stands for it.
    /// </summary>
    public bool TryRequestAutoStart()
    {
        lock (_gate)
        {
            if (!_autoStartPending)
            {
                return false;
            }

            _autoStartPending = false;
            RequestStart("auto-start");
            return true;
        }
    }

    /// <summary>
    /// Aborts only the running measurement (interlock opened, service stopping). During a run (Continuous, scan) with
    /// no measurement current, between two of them, the run's next measurement is aborted with it as soon as it begins:
    /// until 2026-11-24 such an abort was dropped, and an interlock that opened and closed again while a scan waited
    /// between points (the lid lifted, the sample changed) let the scan go on. Outside a run it aborts nothing: the next
    /// start is checked against the interlock as it is then.
    /// </summary>
    public void Abort(string reason)
    {
        lock (_gate)
        {
            if (_current is null)
            {
                if (_run is not null)
                {
                    _pendingAbort ??= reason;
                    _pendingAbortArrived.TrySetResult(); // continuations run on the pool, not here under _gate
                }

                return;
            }

            _abortReason ??= reason;

            // CancelAsync: the token reads cancelled before this returns, but its callbacks, and with them the source's
            // and the worker's code awaiting it (the abort handling, the disable of the MCA), run on the thread pool.
            // Cancel() ran them here, on the stopping thread (the MQTT handler's, the GPIO watcher's), under _gate,
            // until 2026-11-24. The task only faults if a callback throws, and those are the awaits' own.
            _ = _current.CancelAsync();
        }
    }

    /// <summary>
    /// Completes when an abort (a stop, the interlock opening) arrives during a run while none of its measurements is
    /// current, or has arrived since the run's last measurement ended: the worker, waiting to hand a result on to a full
    /// spectra channel, switches the X-ray warning off then rather than when a slot frees. Take it after the
    /// measurement's <see cref="End"/>; the next <see cref="Begin"/> renews it.
    /// </summary>
    public Task PendingAbortArrived
    {
        get
        {
            lock (_gate)
            {
                return _pendingAbortArrived.Task;
            }
        }
    }

    /// <summary>True after a start until a stop (the Continuous/Scan loop runs while true).</summary>
    public bool Running => _running;

    /// <summary>Why the last stop was requested (for a measurement that would begin after it).</summary>
    public string? StopReason => _stopReason;

    /// <summary>What a start is running ("measurement", "continuous run", "scan"); null while none is.</summary>
    public string? ActiveRun => _run;

    /// <summary>
    /// Marks the start just taken as running: until <see cref="RunEnded"/>, other starts are refused at once (a trigger
    /// press during a measurement no longer queues a second exposure behind it). A start that came after the worker took
    /// this one and before this call is refused here the same way: until 2026-11-24 it stayed queued and began a second
    /// exposure as soon as the first ended.
    /// </summary>
    public void RunStarted(string what)
    {
        lock (_gate)
        {
            _run = what;
            _pendingAbort = null; // from before this run: its first measurement checks the interlock itself
            RenewPendingAbortArrived();
            ClearPendingStart($"A {what} is already in progress; send stop first (starts are not queued behind one).");
        }
    }

    /// <summary>The loop or scan has ended: starts are taken again.</summary>
    public void RunEnded()
    {
        lock (_gate)
        {
            _run = null;
            _pendingAbort = null;
        }
    }

    /// <summary>Waits for the next start request.</summary>
    public ValueTask<StartRequest> WaitForStartAsync(CancellationToken cancellationToken) => _starts.Reader.ReadAsync(cancellationToken);

    /// <summary>Drops a pending start request (used after a refused start), answering it with <paramref name="reason"/>.</summary>
    public void ClearPendingStart(string reason)
    {
        while (_starts.Reader.TryRead(out var pending))
        {
            pending.Refuse(reason);
        }
    }

    /// <summary>
    /// Begins a measurement: returns a token cancelled by <see cref="Abort"/>, <see cref="RequestStop"/> or
    /// <paramref name="stopping"/>; already cancelled when an abort came since the run's last measurement ended.
    /// </summary>
    public CancellationTokenSource Begin(CancellationToken stopping)
    {
        lock (_gate)
        {
            _abortReason = _pendingAbort;
            _pendingAbort = null;
            RenewPendingAbortArrived();
            _current = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            if (_abortReason is not null)
            {
                _current.Cancel();
            }

            return _current;
        }
    }

    private void RenewPendingAbortArrived()
    {
        if (_pendingAbortArrived.Task.IsCompleted)
        {
            _pendingAbortArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Ends a measurement and returns why it was aborted (null = not aborted).</summary>
    public string? End(CancellationTokenSource measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        lock (_gate)
        {
            if (ReferenceEquals(_current, measurement))
            {
                _current = null;
            }

            string? reason = _abortReason;
            _abortReason = null;
            measurement.Dispose();
            return reason;
        }
    }
}

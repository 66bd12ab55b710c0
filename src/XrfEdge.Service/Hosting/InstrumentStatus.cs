namespace XrfEdge.Service.Hosting;

/// <summary>
/// The service's shared, thread-safe state: the current <see cref="ServiceState"/>, the last error, counters, and the
/// broker connection. Everything that shows state (status topic, systemd STATUS=, LEDs) reads it; <see cref="Changed"/>
/// fires after every change of state, error or connection.
/// </summary>
internal sealed class InstrumentStatus
{
    private readonly object _gate = new();
    private ServiceState _state = ServiceState.Starting;
    private string? _lastError;
    private string? _modelProblem;
    private bool _faultDuringRun;

    /// <summary>The error that put the state in Fault (or will, at the end of the run: <see cref="_faultDuringRun"/>).</summary>
    private string? _faultCause;
    private bool _connected;
    private bool _interlockClosed = true;
    private long _completed;
    private long _aborted;
    private long _failed;

    /// <summary>Raised (outside the lock) after a change.</summary>
    public event Action? Changed;

    public ServiceState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public string? LastError
    {
        get
        {
            lock (_gate)
            {
                return _lastError;
            }
        }
    }

    /// <summary>Why no model is loaded (the service then measures without analysis), or null when one is.</summary>
    public string? ModelProblem
    {
        get
        {
            lock (_gate)
            {
                return _modelProblem;
            }
        }
    }

    public bool MqttConnected
    {
        get
        {
            lock (_gate)
            {
                return _connected;
            }
        }
    }

    public bool InterlockClosed
    {
        get
        {
            lock (_gate)
            {
                return _interlockClosed;
            }
        }
    }

    public long Completed => Interlocked.Read(ref _completed);

    public long Aborted => Interlocked.Read(ref _aborted);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Moves to <paramref name="state"/>; once <see cref="ServiceState.Stopping"/>, the state stays there. A run that
    /// had a fault reported while it measured (<see cref="ReportFault"/>) ends in <see cref="ServiceState.Fault"/>
    /// rather than <see cref="ServiceState.Idle"/>.
    /// </summary>
    public void SetState(ServiceState state, string? error = null)
    {
        lock (_gate)
        {
            if (_state == ServiceState.Stopping || (_state == state && error is null))
            {
                return;
            }

            if (state == ServiceState.Measuring && _state != ServiceState.Measuring)
            {
                _faultDuringRun = false; // a new run starts clean: "cleared by the next success"
            }
            else if (state == ServiceState.Idle && _state == ServiceState.Measuring && _faultDuringRun)
            {
                state = ServiceState.Fault;
            }

            if (error is not null)
            {
                _lastError = error;
            }

            if (state == ServiceState.Fault && (_state != ServiceState.Fault || error is not null))
            {
                _faultCause = error ?? _faultCause ?? _lastError;
            }

            _state = state;
        }

        Changed?.Invoke();
    }

    /// <summary>Leaves <see cref="ServiceState.Starting"/> for <see cref="ServiceState.Idle"/>; any other state (an auto-started run already measuring) stays.</summary>
    public void LeaveStarting()
    {
        lock (_gate)
        {
            if (_state != ServiceState.Starting)
            {
                return;
            }

            _state = ServiceState.Idle;
        }

        Changed?.Invoke();
    }

    /// <summary>
    /// A fault found after its measurement ended (analysis). While the next exposure runs the state stays
    /// <see cref="ServiceState.Measuring"/> (the measuring LED means X-rays on; a fault there hid it) and the run ends in
    /// <see cref="ServiceState.Fault"/>; otherwise the state becomes Fault at once. The error is shown either way.
    /// </summary>
    public void ReportFault(string error)
    {
        lock (_gate)
        {
            if (_state == ServiceState.Stopping)
            {
                return;
            }

            _lastError = error;
            _faultCause = error;
            if (_state == ServiceState.Measuring)
            {
                _faultDuringRun = true;
            }
            else
            {
                _state = ServiceState.Fault;
            }
        }

        Changed?.Invoke();
    }

    /// <summary>
    /// The condition that <paramref name="error"/> described has ended (the DP5 not reachable at start-up has
    /// connected, a result that could not be stored has been). If it is still the last error, nothing has gone wrong
    /// since: <c>last_error</c> is cleared, and a <see cref="ServiceState.Fault"/> that this error caused becomes
    /// <see cref="ServiceState.Idle"/>; a fault an earlier error caused stays, and <c>last_error</c> shows that error
    /// again. A later error stays, with the state it
    /// set: it has its own way out (a failed measurement's fault is cleared by the next success). Errors that record an
    /// event, not a condition (a measurement that failed), are never cleared this way.
    /// </summary>
    /// <returns>Whether <paramref name="error"/> was still the last error and was cleared.</returns>
    public bool Recovered(string error)
    {
        lock (_gate)
        {
            if (_state == ServiceState.Stopping || _lastError != error)
            {
                return false;
            }

            if (_faultCause == error)
            {
                _faultCause = null;
                _faultDuringRun = false;
                if (_state == ServiceState.Fault)
                {
                    _state = ServiceState.Idle;
                }
            }

            // A fault still in effect (caused by an earlier error) shows its own error again, not none.
            _lastError = _state == ServiceState.Fault || _faultDuringRun ? _faultCause : null;
        }

        Changed?.Invoke();
        return true;
    }

    public void SetError(string error)
    {
        lock (_gate)
        {
            _lastError = error;
        }

        Changed?.Invoke();
    }

    /// <summary>Sets or clears (<see langword="null"/>) why no model is loaded.</summary>
    public void SetModelProblem(string? problem)
    {
        lock (_gate)
        {
            if (_modelProblem == problem)
            {
                return;
            }

            _modelProblem = problem;
        }

        Changed?.Invoke();
    }

    public void SetConnected(bool connected)
    {
        lock (_gate)
        {
            if (_connected == connected)
            {
                return;
            }

            _connected = connected;
        }

        Changed?.Invoke();
    }

    public void SetInterlockClosed(bool closed)
    {
        lock (_gate)
        {
            if (_interlockClosed == closed)
            {
                return;
            }

            _interlockClosed = closed;
        }

        Changed?.Invoke();
    }

    public void CountCompleted() => Interlocked.Increment(ref _completed);

    public void CountAborted() => Interlocked.Increment(ref _aborted);

    public void CountFailed() => Interlocked.Increment(ref _failed);

    /// <summary>One line for systemd's STATUS= and the console.</summary>
    public string Describe(long outboxPending)
    {
        lock (_gate)
        {
            string state = _state.ToString().ToLowerInvariant();
            string link = _connected ? "online" : "offline";
            string interlock = _interlockClosed ? "" : ", interlock open";
            string error = _state == ServiceState.Fault && _lastError is not null ? $", error: {_lastError}" : "";
            string model = _modelProblem is null ? "" : $", NO MODEL (measuring without analysis): {_modelProblem}";
            return $"{state}, {link}, outbox {outboxPending} queued, {Completed} measured{interlock}{model}{error}";
        }
    }
}

using System.Threading.Channels;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// Start and stop requests for measurements, from the trigger input, MQTT commands and the interlock. Start requests
/// go through a channel of capacity 1 with <see cref="BoundedChannelFullMode.DropWrite"/>: pressing the trigger again
/// while a start is already pending does not queue a second measurement. A stop or an open interlock cancels the
/// running measurement at once.
/// </summary>
internal sealed class MeasurementControl
{
    private readonly object _gate = new();
    private readonly Channel<StartRequest> _starts = Channel.CreateBounded<StartRequest>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private CancellationTokenSource? _current;
    private string? _abortReason;
    private volatile bool _running;

    /// <summary>Requests one measurement (Triggered) or starts the loop (Continuous, Scan); <paramref name="origin"/> is logged ("trigger", "mqtt").</summary>
    /// <param name="origin">Who asked.</param>
    /// <param name="preset">Preset for this start (MQTT <c>start</c> with <c>preset_s</c>); null = Acquisition:PresetSeconds.</param>
    /// <returns>False when a start was already pending (the request is merged into it).</returns>
    public bool RequestStart(string origin, TimeSpan? preset = null)
    {
        _running = true;
        return _starts.Writer.TryWrite(new StartRequest(origin, preset));
    }

    /// <summary>Stops the running measurement (recorded as aborted with <paramref name="reason"/>) and, in Continuous/Scan mode, the loop.</summary>
    public void RequestStop(string reason)
    {
        _running = false;
        while (_starts.Reader.TryRead(out _))
        {
        }

        Abort(reason);
    }

    /// <summary>Aborts only the running measurement (interlock opened, service stopping).</summary>
    public void Abort(string reason)
    {
        lock (_gate)
        {
            _abortReason ??= reason;
            _current?.Cancel();
        }
    }

    /// <summary>True after a start until a stop (the Continuous/Scan loop runs while true).</summary>
    public bool Running => _running;

    /// <summary>Waits for the next start request.</summary>
    public ValueTask<StartRequest> WaitForStartAsync(CancellationToken cancellationToken) => _starts.Reader.ReadAsync(cancellationToken);

    /// <summary>Drops a pending start request (used after a refused start).</summary>
    public void ClearPendingStart()
    {
        while (_starts.Reader.TryRead(out _))
        {
        }
    }

    /// <summary>Begins a measurement: returns a token cancelled by <see cref="Abort"/>, <see cref="RequestStop"/> or <paramref name="stopping"/>.</summary>
    public CancellationTokenSource Begin(CancellationToken stopping)
    {
        lock (_gate)
        {
            _abortReason = null;
            _current = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            return _current;
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

    /// <summary>One start request.</summary>
    internal readonly record struct StartRequest(string Origin, TimeSpan? Preset);
}

using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;

namespace XrfEdge.Service.Gpio;

/// <summary>
/// The instrument's I/O on a GPIO chip. Inputs use edge events (uAPI v2), read on one dedicated thread each; outputs
/// are driven on state changes. Every line is optional. At start-up all outputs are requested inactive, so the X-ray
/// warning is never left on by a crashed previous run (the kernel releases lines on exit).
/// The trigger uses the kernel's debounce. The interlock does not: the kernel's debounce drops a level change shorter
/// than the period in both directions, so it hid an interlock opened for less than Gpio:InterlockDebounceMilliseconds
/// (until 2026-11-24; up to 1000 ms allowed). Here an opening edge aborts at once, and only closing is debounced: the
/// interlock counts as closed once no opening edge has come for the debounce period.
/// </summary>
internal sealed class GpioInstrumentIo : IInstrumentIo
{
    private const string Consumer = "xrfedge";

    /// <summary>Buzzer beep length; long enough to hear, short enough not to annoy (100 ms).</summary>
    private static readonly TimeSpan BeepLength = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the input threads look at the cancellation flag while no edge comes.</summary>
    private static readonly TimeSpan PollSlice = TimeSpan.FromMilliseconds(200);

    private readonly GpioChip _chip;

    /// <summary>The chip's kernel name (gpiochip0), read once: logs name it even after the chip has gone.</summary>
    private readonly string _chipName;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GpioLine? _trigger;
    private readonly GpioLine? _interlock;
    private readonly GpioLine? _xray;
    private readonly GpioLine? _ready;
    private readonly GpioLine? _measuring;
    private readonly GpioLine? _fault;
    private readonly GpioLine? _offline;
    private readonly GpioLine? _buzzer;
    private readonly TimeSpan _interlockSettle;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _threads = [];
    private ITimer? _beepTimer;

    /// <summary>TimeProvider timestamp of the last opening edge the interlock thread saw; long.MinValue = none.</summary>
    private long _interlockOpenedAt = long.MinValue;

    /// <summary>Set for good when the interlock thread has ended on an error: nothing would see an opening any more.</summary>
    private volatile bool _interlockUnwatched;

    public GpioInstrumentIo(GpioChip chip, GpioOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(chip);
        ArgumentNullException.ThrowIfNull(options);
        _chip = chip;
        _chipName = chip.Name;
        _time = time;
        _logger = logger;
        _interlockSettle = TimeSpan.FromMilliseconds(options.InterlockDebounceMilliseconds);
        try
        {
            _trigger = Input(options.TriggerLine, options.TriggerActiveLow, options.TriggerDebounceMilliseconds, GpioEdge.Rising);
            _interlock = Input(options.InterlockLine, options.InterlockActiveLow, 0, GpioEdge.Both); // raw edges: see the class summary
            _xray = Output(options.XrayWarningLine, options.OutputsActiveLow);
            _ready = Output(options.ReadyLedLine, options.OutputsActiveLow);
            _measuring = Output(options.MeasuringLedLine, options.OutputsActiveLow);
            _fault = Output(options.FaultLedLine, options.OutputsActiveLow);
            _offline = Output(options.OfflineLedLine, options.OutputsActiveLow);
            _buzzer = Output(options.BuzzerLine, options.OutputsActiveLow);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// True when the interlock is closed or not wired. A line that cannot be read (chip gone, USB expander unplugged)
    /// reads as open: the safe answer for an X-ray source. So does one whose edges can no longer be read (the interlock
    /// thread ended on an error), until the service restarts, even if its value still reads closed: no exposure may
    /// start that an opening could not abort. A line that reads closed counts as open until the debounce period has
    /// passed since the last opening edge (a closing contact still bouncing).
    /// </summary>
    public bool InterlockClosed
    {
        get
        {
            if (_interlock is null)
            {
                return true;
            }

            if (_interlockUnwatched)
            {
                return false;
            }

            try
            {
                if (!_interlock.Read())
                {
                    return false;
                }
            }
            catch (IOException ex)
            {
                // Only this read failed: the watching thread (if any) still runs, and the next call reads again.
                Log.GpioFailed(_logger, "interlock", _interlock.Settings.Offset, _chipName, "reading its value failed", ex.Message, "the interlock counts as open until a read succeeds");
                return false;
            }

            long openedAt = Volatile.Read(ref _interlockOpenedAt);
            return openedAt == long.MinValue || _time.GetElapsedTime(openedAt) >= _interlockSettle;
        }
    }

    /// <summary>
    /// Watches the interlock from before the workers start: until 2026-11-24 it was first watched when the host had
    /// started (with the trigger), and an auto-started run exposing before then was not aborted by an opening.
    /// </summary>
    public void WatchInterlock(MeasurementControl control, InstrumentStatus status)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(status);
        if (_interlock is not null)
        {
            bool shownClosed = InterlockClosed;
            long? closingSince = null;
            status.SetInterlockClosed(shownClosed);
            StartThread(
                "interlock",
                "the interlock counts as open until the service restarts",
                _interlock,
                edge =>
                {
                    if (edge.Edge == GpioEdge.Rising)
                    {
                        closingSince = _time.GetTimestamp(); // shown closed once it has stayed so for the debounce period
                        return;
                    }

                    // Opening: abort at once, however short it turns out to be (every bounce aborts; that is harmless).
                    Volatile.Write(ref _interlockOpenedAt, _time.GetTimestamp());
                    closingSince = null;
                    control.Abort("interlock opened");
                    status.SetInterlockClosed(false);
                    if (shownClosed)
                    {
                        shownClosed = false;
                        Log.InterlockChanged(_logger, "open");
                    }
                },
                error =>
                {
                    // Fail safe: an interlock that can no longer be watched is open. The running exposure stops, and
                    // every later start is refused: InterlockClosed stays false even where the value still reads
                    // (until 2026-11-24 it read the value, so after one failed event read starts ran unwatched).
                    _interlockUnwatched = true;
                    status.SetInterlockClosed(false);
                    status.SetError("interlock line unreadable: " + error);
                    control.Abort("interlock unreadable");
                },
                () =>
                {
                    if (closingSince is not { } since)
                    {
                        return PollSlice;
                    }

                    var left = _interlockSettle - _time.GetElapsedTime(since);
                    if (left > TimeSpan.Zero)
                    {
                        return left < PollSlice ? left : PollSlice;
                    }

                    closingSince = null;
                    if (InterlockClosed)
                    {
                        status.SetInterlockClosed(true);
                        if (!shownClosed)
                        {
                            shownClosed = true;
                            Log.InterlockChanged(_logger, "closed");
                        }
                    }

                    return PollSlice;
                });
        }
    }

    public void Start(MeasurementControl control, InstrumentStatus status)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(status);
        if (_trigger is not null)
        {
            StartThread(
                "trigger",
                "trigger presses are not seen until the service restarts",
                _trigger,
                _ =>
                {
                    Log.TriggerPressed(_logger);
                    control.RequestStart("trigger");
                },
                error => status.SetError("trigger line unreadable: " + error));
        }
    }

    public void SetXrayWarning(bool on) => _xray?.Write(on);

    /// <summary>
    /// Drives the LEDs. One that cannot be driven (chip gone) is logged and the others are still set; nothing is thrown,
    /// since the caller publishes the same state over MQTT next. Until 2026-11-24 the IOException ended the status
    /// worker, and with it the service, and the state (an interlock found unreadable, say) was never published.
    /// </summary>
    public void ShowState(ServiceState state, bool connected, bool interlockClosed)
    {
        ShowLed(_ready, "ready LED", state == ServiceState.Idle && interlockClosed); // not "ready" when a press would be refused
        ShowLed(_measuring, "measuring LED", state == ServiceState.Measuring);
        ShowLed(_fault, "fault LED", state == ServiceState.Fault);
        ShowLed(_offline, "offline LED", !connected);
    }

    public void Beep()
    {
        if (_buzzer is null)
        {
            return;
        }

        _buzzer.Write(true);
        var previous = Interlocked.Exchange(ref _beepTimer, _time.CreateTimer(_ => EndBeep(), null, BeepLength, Timeout.InfiniteTimeSpan));
        previous?.Dispose();
    }

    private void ShowLed(GpioLine? line, string name, bool on)
    {
        try
        {
            line?.Write(on);
        }
        catch (IOException ex)
        {
            Log.GpioOutputFailed(_logger, name, ex.Message);
        }
    }

    /// <summary>
    /// Runs on a timer thread, where an exception is unhandled and ends the process: a buzzer that cannot be switched
    /// off (chip gone) is logged (until 2026-11-24 the IOException was thrown there).
    /// </summary>
    private void EndBeep()
    {
        try
        {
            _buzzer?.Write(false);
        }
        catch (IOException ex)
        {
            Log.GpioOutputFailed(_logger, "buzzer (switching off)", ex.Message);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var thread in _threads)
        {
            thread.Join(PollSlice * 3);
        }

        _beepTimer?.Dispose();
        foreach (var line in new[] { _xray, _ready, _measuring, _fault, _offline, _buzzer })
        {
            try
            {
                line?.Write(false);
            }
            catch (IOException)
            {
                // The chip went away (USB GPIO expander unplugged): nothing left to switch off.
            }

            line?.Dispose();
        }

        _trigger?.Dispose();
        _interlock?.Dispose();
        _chip.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// Reads <paramref name="line"/>'s edges on a thread of its own ("gpio-<paramref name="input"/>") until Dispose;
    /// <paramref name="nextWait"/>, when given, is called before each wait for an edge (on that thread), does its timed
    /// work and says how long to wait. A failed read of the edges ends the thread: log 8012 says so, with
    /// <paramref name="unwatched"/> (what that means for the instrument), and <paramref name="onFailure"/> acts on it.
    /// </summary>
    private void StartThread(string input, string unwatched, GpioLine line, Action<GpioEdgeEvent> onEdge, Action<string> onFailure, Func<TimeSpan>? nextWait = null)
    {
        var token = _stop.Token;
        var thread = new Thread(() =>
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    if (line.TryWaitForEdge(nextWait?.Invoke() ?? PollSlice, out var edge))
                    {
                        onEdge(edge);
                    }
                }
                catch (IOException ex)
                {
                    Log.GpioFailed(_logger, input, line.Settings.Offset, _chipName, "reading its edge events failed", ex.Message, "it is no longer watched, and " + unwatched);
                    onFailure(ex.Message);
                    return;
                }
            }
        })
        { IsBackground = true, Name = "gpio-" + input };
        _threads.Add(thread);
        thread.Start();
    }

    private GpioLine? Input(int? offset, bool activeLow, int debounceMilliseconds, GpioEdge edges) =>
        offset is { } o
            ? _chip.RequestLine(
                new GpioLineSettings(o, GpioLineDirection.Input)
                {
                    ActiveLow = activeLow,
                    Bias = activeLow ? GpioBias.PullUp : GpioBias.PullDown,
                    Edges = edges,
                    DebouncePeriod = TimeSpan.FromMilliseconds(debounceMilliseconds),
                },
                Consumer)
            : null;

    private GpioLine? Output(int? offset, bool activeLow) =>
        offset is { } o
            ? _chip.RequestLine(new GpioLineSettings(o, GpioLineDirection.Output) { ActiveLow = activeLow, InitialValue = false }, Consumer)
            : null;
}

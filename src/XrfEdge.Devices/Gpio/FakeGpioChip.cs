using System.Collections.Concurrent;
using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Gpio;

/// <summary>
/// An in-memory GPIO chip below the ioctl seam, for tests and for profiles without GPIO hardware. It decodes the
/// gpio_v2_line_request the real code builds (direction, active-low, edge flags, debounce and output-value attributes)
/// and models the kernel's behaviour: logical values, edge events only for the requested edges, and debounce —
/// a level change held for less than the debounce period produces no event and no value change
/// (gpiolib-cdev.c debounce_work_func: the value is sampled once the line has been stable for the period).
/// </summary>
public sealed class FakeGpioChip : IGpioCharDevice
{
    private readonly object _gate = new();
    private readonly bool[] _physicalHigh;
    private readonly int[] _outputFalls;
    private readonly ConcurrentDictionary<int, FakeRequest> _requests = new();
    private readonly Dictionary<int, int> _requestByOffset = [];
    private int _nextFd = 100;
    private ulong _clockNanoseconds = 1_000_000_000;
    private uint _sequence;

    /// <summary>Creates a chip with <paramref name="lineCount"/> lines, all electrically low.</summary>
    public FakeGpioChip(int lineCount = 32, string name = "fake-gpiochip")
    {
        _physicalHigh = new bool[lineCount];
        _outputFalls = new int[lineCount];
        Name = name;
    }

    /// <summary>Chip name.</summary>
    public string Name { get; }

    /// <summary>Number of lines.</summary>
    public int LineCount => _physicalHigh.Length;

    /// <summary>Wraps this fake in the <see cref="GpioChip"/> the product code uses. Disposing that chip leaves the fake usable.</summary>
    public GpioChip AsChip() => new(this);

    /// <summary>Simulates the pin's electrical level changing and staying there for <paramref name="heldFor"/>.</summary>
    /// <param name="offset">Line offset.</param>
    /// <param name="high">New electrical level (true = 3.3 V).</param>
    /// <param name="heldFor">How long the level is held before whatever comes next; shorter than the line's debounce period = a bounce that is filtered out.</param>
    public void SetInputLevel(int offset, bool high, TimeSpan heldFor)
    {
        lock (_gate)
        {
            _clockNanoseconds += (ulong)Math.Max(0, heldFor.Ticks) * 100;
            var request = RequestAt(offset);
            if (request is not null && request.DebounceMicroseconds > 0 && heldFor.TotalMicroseconds < request.DebounceMicroseconds)
            {
                return; // a bounce: the kernel never sees a stable new level
            }

            if (_physicalHigh[offset] == high)
            {
                return;
            }

            _physicalHigh[offset] = high;
            if (request is null || request.Output)
            {
                return;
            }

            bool logical = high != request.ActiveLow;
            bool wanted = logical ? request.Rising : request.Falling;
            if (!wanted)
            {
                return;
            }

            request.LineSequence++;
            request.Events.Add(new GpioV2LineEvent
            {
                TimestampNanoseconds = _clockNanoseconds,
                Id = logical ? GpioV2Abi.EventRisingEdge : GpioV2Abi.EventFallingEdge,
                Offset = (uint)offset,
                Sequence = ++_sequence,
                LineSequence = request.LineSequence,
            });
        }
    }

    /// <summary>The electrical level of a line (what a multimeter on the pin would show).</summary>
    public bool IsPhysicallyHigh(int offset)
    {
        lock (_gate)
        {
            return _physicalHigh[offset];
        }
    }

    /// <summary>
    /// How often the process drove the output line from high to low (an active-high warning lamp switched off), so a
    /// test can see a drop too short to catch by reading <see cref="IsPhysicallyHigh"/>.
    /// </summary>
    public int OutputFalls(int offset)
    {
        lock (_gate)
        {
            return _outputFalls[offset];
        }
    }

    /// <summary>True while some process holds a request on the line.</summary>
    public bool IsRequested(int offset)
    {
        lock (_gate)
        {
            return _requestByOffset.ContainsKey(offset);
        }
    }

    /// <summary>The debounce period (µs) the current request on the line asked for, or 0.</summary>
    public uint DebounceMicroseconds(int offset)
    {
        lock (_gate)
        {
            return RequestAt(offset)?.DebounceMicroseconds ?? 0;
        }
    }

    /// <summary>
    /// Makes the next poll/read of edge events on the line's request fail once with an I/O error (EIO), as the kernel's
    /// read() can; reads of the value keep working. For the fail-safe paths of the event readers.
    /// </summary>
    public void FailNextEventRead(int offset)
    {
        lock (_gate)
        {
            (RequestAt(offset) ?? throw new InvalidOperationException($"line {offset} is not requested")).FailNextEventRead = true;
        }
    }

    /// <summary>The consumer label of the current request on the line, or null.</summary>
    public string? Consumer(int offset)
    {
        lock (_gate)
        {
            return RequestAt(offset)?.Consumer;
        }
    }

    unsafe void IGpioCharDevice.GetLine(ref GpioV2LineRequest request)
    {
        lock (_gate)
        {
            if (request.LineCount != 1)
            {
                throw new IOException($"{Name}: the fake chip supports one line per request (got {request.LineCount}).");
            }

            int offset = (int)request.Offsets[0];
            if (offset >= LineCount)
            {
                throw new IOException($"GPIO_V2_GET_LINE_IOCTL on {Name} (line {offset}): Invalid argument (errno 22)");
            }

            if (_requestByOffset.ContainsKey(offset))
            {
                throw new IOException($"GPIO_V2_GET_LINE_IOCTL on {Name} (line {offset}): Device or resource busy (errno 16)");
            }

            var flags = request.Config.Flags;
            bool output = (flags & GpioV2LineFlags.Output) != 0;
            if (output == ((flags & GpioV2LineFlags.Input) != 0))
            {
                throw new IOException($"GPIO_V2_GET_LINE_IOCTL on {Name} (line {offset}): Invalid argument (errno 22): exactly one of INPUT/OUTPUT");
            }

            if (output && (flags & (GpioV2LineFlags.EdgeRising | GpioV2LineFlags.EdgeFalling)) != 0)
            {
                throw new IOException($"GPIO_V2_GET_LINE_IOCTL on {Name} (line {offset}): Invalid argument (errno 22): edge detection on an output");
            }

            string consumer;
            fixed (byte* name = request.Consumer)
            {
                consumer = new string((sbyte*)name);
            }

            var fake = new FakeRequest(offset, output, (flags & GpioV2LineFlags.ActiveLow) != 0)
            {
                Rising = (flags & GpioV2LineFlags.EdgeRising) != 0,
                Falling = (flags & GpioV2LineFlags.EdgeFalling) != 0,
                DebounceMicroseconds = GpioRequestEncoder.DebounceMicroseconds(request),
                Consumer = consumer,
            };
            if (output)
            {
                _physicalHigh[offset] = GpioRequestEncoder.InitialOutput(request) != fake.ActiveLow;
            }

            request.Fd = _nextFd++;
            _requests[request.Fd] = fake;
            _requestByOffset[offset] = request.Fd;
        }
    }

    void IGpioCharDevice.GetValues(int requestFd, ref GpioV2LineValues values)
    {
        lock (_gate)
        {
            var request = Find(requestFd);
            bool logical = _physicalHigh[request.Offset] != request.ActiveLow;
            values.Bits = logical ? values.Mask & 1 : 0;
        }
    }

    void IGpioCharDevice.SetValues(int requestFd, ref GpioV2LineValues values)
    {
        lock (_gate)
        {
            var request = Find(requestFd);
            if (!request.Output)
            {
                throw new IOException($"GPIO_V2_LINE_SET_VALUES_IOCTL on {Name}: Operation not permitted (errno 1): line {request.Offset} is an input");
            }

            if ((values.Mask & 1) != 0)
            {
                bool high = ((values.Bits & 1) != 0) != request.ActiveLow;
                if (_physicalHigh[request.Offset] && !high)
                {
                    _outputFalls[request.Offset]++;
                }

                _physicalHigh[request.Offset] = high;
            }
        }
    }

    bool IGpioCharDevice.TryReadEvent(int requestFd, TimeSpan timeout, out GpioV2LineEvent lineEvent)
    {
        FakeRequest request;
        lock (_gate)
        {
            request = Find(requestFd);
            if (request.FailNextEventRead)
            {
                request.FailNextEventRead = false;
                throw new IOException($"read of a line event from {Name}: Input/output error (errno 5)");
            }
        }

        try
        {
            return request.Events.TryTake(out lineEvent, timeout);
        }
        catch (ObjectDisposedException)
        {
            lineEvent = default;
            return false;
        }
    }

    void IGpioCharDevice.CloseLine(int requestFd)
    {
        lock (_gate)
        {
            if (_requests.TryRemove(requestFd, out var request))
            {
                _requestByOffset.Remove(request.Offset);
                request.Events.CompleteAdding();
            }
        }
    }

    void IDisposable.Dispose()
    {
        // The fake outlives the GpioChip wrappers so that a test can inspect it afterwards.
    }

    private FakeRequest? RequestAt(int offset) =>
        _requestByOffset.TryGetValue(offset, out int fd) && _requests.TryGetValue(fd, out var r) ? r : null;

    private FakeRequest Find(int requestFd) =>
        _requests.TryGetValue(requestFd, out var request)
            ? request
            : throw new IOException($"{Name}: Bad file descriptor (errno 9): no line request {requestFd}");

    private sealed class FakeRequest(int offset, bool output, bool activeLow)
    {
        public int Offset { get; } = offset;

        public bool Output { get; } = output;

        public bool ActiveLow { get; } = activeLow;

        public bool Rising { get; init; }

        public bool Falling { get; init; }

        public uint DebounceMicroseconds { get; init; }

        public string Consumer { get; init; } = "";

        public uint LineSequence { get; set; }

        public bool FailNextEventRead { get; set; }

        public BlockingCollection<GpioV2LineEvent> Events { get; } = [];
    }
}

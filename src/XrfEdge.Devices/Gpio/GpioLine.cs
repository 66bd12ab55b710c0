using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Gpio;

/// <summary>One requested GPIO line. Values are logical (active-low already applied by the kernel).</summary>
public sealed class GpioLine : IDisposable
{
    private readonly IGpioCharDevice _device;
    private readonly int _requestFd;
    private int _disposed;

    internal GpioLine(IGpioCharDevice device, int requestFd, GpioLineSettings settings)
    {
        _device = device;
        _requestFd = requestFd;
        Settings = settings;
    }

    /// <summary>The settings the line was requested with.</summary>
    public GpioLineSettings Settings { get; }

    /// <summary>Reads the logical value (true = active).</summary>
    public bool Read()
    {
        var values = new GpioV2LineValues { Mask = 1 };
        _device.GetValues(_requestFd, ref values);
        return (values.Bits & 1) != 0;
    }

    /// <summary>Drives an output line to a logical value.</summary>
    public void Write(bool active)
    {
        if (Settings.Direction != GpioLineDirection.Output)
        {
            throw new InvalidOperationException($"GPIO line {Settings.Offset} is an input and cannot be written.");
        }

        var values = new GpioV2LineValues { Mask = 1, Bits = active ? 1UL : 0UL };
        _device.SetValues(_requestFd, ref values);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the next debounced edge; false when none came.</summary>
    public bool TryWaitForEdge(TimeSpan timeout, out GpioEdgeEvent edge)
    {
        edge = default;
        if (!_device.TryReadEvent(_requestFd, timeout, out var raw))
        {
            return false;
        }

        edge = new GpioEdgeEvent(
            (int)raw.Offset,
            raw.Id == GpioV2Abi.EventRisingEdge ? GpioEdge.Rising : GpioEdge.Falling,
            raw.TimestampNanoseconds,
            raw.LineSequence);
        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _device.CloseLine(_requestFd);
        }
    }
}

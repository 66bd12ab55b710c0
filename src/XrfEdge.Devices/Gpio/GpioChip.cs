using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Gpio;

/// <summary>
/// A GPIO chip (<c>/dev/gpiochipN</c>, Linux GPIO character device uAPI v2). Shaped like dotnet/iot's
/// <c>GpioController</c> reduced to what the instrument needs: request a line, read/write it, wait for debounced edges.
/// The legacy sysfs interface is not used: <c>ProtectKernelTunables=</c> makes /sys read-only under systemd.
/// </summary>
public sealed class GpioChip : IDisposable
{
    private readonly IGpioCharDevice _device;

    internal GpioChip(IGpioCharDevice device) => _device = device;

    /// <summary>Chip name reported by the kernel (for example <c>gpiochip0</c>).</summary>
    public string Name => _device.Name;

    /// <summary>Number of lines on the chip (Raspberry Pi 4 gpiochip0: 58; Pi 5 header chip: 54).</summary>
    public int LineCount => _device.LineCount;

    /// <summary>Opens a chip device such as <c>/dev/gpiochip0</c>.</summary>
    /// <exception cref="IOException">The device cannot be opened or is not a GPIO chip; the message carries errno's text.</exception>
    public static GpioChip Open(string devicePath) => new(new LinuxGpioCharDevice(devicePath));

    /// <summary>Requests one line for exclusive use by this process.</summary>
    /// <param name="settings">Direction, polarity, bias, edges, debounce, initial value.</param>
    /// <param name="consumer">Label shown by <c>gpioinfo</c> (at most 31 ASCII characters).</param>
    /// <exception cref="ArgumentOutOfRangeException">The offset is not on this chip.</exception>
    /// <exception cref="IOException">The kernel refused (line busy, unsupported flag).</exception>
    public GpioLine RequestLine(GpioLineSettings settings, string consumer)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Offset < 0 || settings.Offset >= LineCount)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Offset, $"GPIO line {settings.Offset} is not on {Name} (lines 0–{LineCount - 1}).");
        }

        var request = GpioRequestEncoder.Encode(settings, consumer);
        _device.GetLine(ref request);
        return new GpioLine(_device, request.Fd, settings);
    }

    /// <inheritdoc />
    public void Dispose() => _device.Dispose();
}

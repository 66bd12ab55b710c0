namespace XrfEdge.Devices.Gpio;

/// <summary>How one GPIO line is requested.</summary>
/// <param name="Offset">Line offset on the chip (0 … chip line count − 1; on a Raspberry Pi gpiochip0 the BCM number).</param>
/// <param name="Direction">Input or output.</param>
public sealed record GpioLineSettings(int Offset, GpioLineDirection Direction)
{
    /// <summary>True when the electrical low level means "active" (switch to ground, LED sinking current).</summary>
    public bool ActiveLow { get; init; }

    /// <summary>Bias for inputs.</summary>
    public GpioBias Bias { get; init; } = GpioBias.AsIs;

    /// <summary>Edges that produce events (inputs only).</summary>
    public GpioEdge Edges { get; init; } = GpioEdge.None;

    /// <summary>Kernel debounce period for inputs (zero = none). Usual range 5–50 ms for mechanical switches; the uAPI takes whole microseconds.</summary>
    public TimeSpan DebouncePeriod { get; init; } = TimeSpan.Zero;

    /// <summary>Initial logical value of an output.</summary>
    public bool InitialValue { get; init; }
}

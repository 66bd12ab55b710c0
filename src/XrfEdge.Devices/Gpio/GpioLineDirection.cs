namespace XrfEdge.Devices.Gpio;

/// <summary>Whether a GPIO line is read or driven.</summary>
public enum GpioLineDirection
{
    /// <summary>The line is read (trigger, interlock).</summary>
    Input,

    /// <summary>The line is driven (LEDs, X-ray warning lamp, buzzer).</summary>
    Output,
}

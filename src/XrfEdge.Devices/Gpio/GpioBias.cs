namespace XrfEdge.Devices.Gpio;

/// <summary>Input bias resistor requested from the chip (not every chip supports every choice).</summary>
public enum GpioBias
{
    /// <summary>Leave the bias as the firmware/device tree set it.</summary>
    AsIs,

    /// <summary>Internal pull-up (for a switch to ground).</summary>
    PullUp,

    /// <summary>Internal pull-down (for a switch to 3.3 V).</summary>
    PullDown,

    /// <summary>No bias: the line is driven externally.</summary>
    Disabled,
}

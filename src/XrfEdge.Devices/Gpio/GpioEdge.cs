namespace XrfEdge.Devices.Gpio;

/// <summary>Which edges of an input line produce events. Edges are logical: with active-low, a press that pulls the pin low is <see cref="Rising"/>.</summary>
[Flags]
public enum GpioEdge
{
    /// <summary>No edge events (the line is only read).</summary>
    None = 0,

    /// <summary>Logical 0 → 1 (inactive → active).</summary>
    Rising = 1,

    /// <summary>Logical 1 → 0 (active → inactive).</summary>
    Falling = 2,

    /// <summary>Both edges.</summary>
    Both = Rising | Falling,
}

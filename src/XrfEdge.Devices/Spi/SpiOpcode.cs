namespace XrfEdge.Devices.Spi;

/// <summary>Command opcodes of the SPI MCA frame protocol (docs/spi-mca-protocol.md §3).</summary>
public enum SpiOpcode : byte
{
    /// <summary>Copy histogram and counters atomically into the snapshot buffer (flags bit 0: clear after copying); answers the header.</summary>
    Snapshot = 0x01,

    /// <summary>Read <c>length</c> bytes of the snapshot image (header then payload) from <c>offset</c>.</summary>
    Read = 0x02,

    /// <summary>Start acquiring; <c>offset</c> carries the preset live time in ms (0 = none).</summary>
    Start = 0x03,

    /// <summary>Stop acquiring.</summary>
    Stop = 0x04,

    /// <summary>Clear histogram and counters.</summary>
    Clear = 0x05,
}

namespace XrfEdge.Devices.Spi;

/// <summary>NACK codes of the SPI MCA frame protocol (docs/spi-mca-protocol.md §4).</summary>
public enum SpiNackCode : byte
{
    /// <summary>The command's CRC-16 did not match (line noise): retry.</summary>
    BadCommandCrc = 0x01,

    /// <summary>Unknown opcode.</summary>
    UnknownOpcode = 0x02,

    /// <summary>Offset/length outside the snapshot image, or length above 4092.</summary>
    OutOfRange = 0x03,

    /// <summary>READ before any SNAPSHOT.</summary>
    NoSnapshot = 0x04,

    /// <summary>The device is busy (e.g. copying): retry after a poll interval.</summary>
    Busy = 0x05,
}

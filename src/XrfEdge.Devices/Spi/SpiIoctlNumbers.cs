namespace XrfEdge.Devices.Spi;

/// <summary>
/// spidev ioctl request numbers and mode bits (include/uapi/linux/spi/spidev.h and spi.h; 'k' = 0x6B,
/// asm-generic _IOC encoding, identical on arm, arm64 and x86).
/// </summary>
public static class SpiIoctlNumbers
{
    /// <summary>SPI_IOC_WR_MODE (u8).</summary>
    public const ulong WriteMode = 0x40016B01;

    /// <summary>SPI_IOC_WR_BITS_PER_WORD (u8).</summary>
    public const ulong WriteBitsPerWord = 0x40016B03;

    /// <summary>SPI_IOC_WR_MAX_SPEED_HZ (u32).</summary>
    public const ulong WriteMaxSpeedHz = 0x40046B04;

    /// <summary>spidev's default <c>bufsiz</c>: the most bytes in one SPI_IOC_MESSAGE (drivers/spi/spidev.c).</summary>
    public const int DefaultBufferSize = 4096;

    /// <summary>Size of <c>struct spi_ioc_transfer</c>, bytes: 32 on every ABI.</summary>
    public const int TransferSize = 32;

    /// <summary>SPI_IOC_MESSAGE(n) = _IOW('k', 0, char[32·n]); n ≤ 511.</summary>
    public static ulong Message(int transfers) => transfers is >= 1 and <= 511
        ? 0x40006B00UL | ((ulong)(transfers * TransferSize) << 16)
        : throw new ArgumentOutOfRangeException(nameof(transfers), transfers, "spidev takes 1–511 transfers per message");

    /// <summary>Number of transfers in an SPI_IOC_MESSAGE request, or 0 when <paramref name="request"/> is not one.</summary>
    public static int TransfersIn(ulong request) =>
        (request & 0xC000FFFFUL) == 0x40006B00UL && ((request >> 16) & 0x3FFF) % TransferSize == 0 ? (int)(((request >> 16) & 0x3FFF) / TransferSize) : 0;
}

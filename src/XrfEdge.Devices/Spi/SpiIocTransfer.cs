using System.Runtime.InteropServices;

namespace XrfEdge.Devices.Spi;

/// <summary>
/// <c>struct spi_ioc_transfer</c> (include/uapi/linux/spi/spidev.h), 32 bytes on 32- and 64-bit user space:
/// <code>
/// 0 tx_buf u64 | 8 rx_buf u64 | 16 len u32 | 20 speed_hz u32 | 24 delay_usecs u16 | 26 bits_per_word u8
/// 27 cs_change u8 | 28 tx_nbits u8 | 29 rx_nbits u8 | 30 word_delay_usecs u8 | 31 pad u8
/// </code>
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
public struct SpiIocTransfer
{
    /// <summary>User pointer to bytes to send, or 0 to clock out zeros.</summary>
    public ulong TxBuffer;

    /// <summary>User pointer for received bytes, or 0 to discard them.</summary>
    public ulong RxBuffer;

    /// <summary>Bytes to transfer.</summary>
    public uint Length;

    /// <summary>Clock override, Hz (0 = device default).</summary>
    public uint SpeedHz;

    /// <summary>Delay after the last bit, µs.</summary>
    public ushort DelayMicroseconds;

    /// <summary>Bits per word override (0 = default 8).</summary>
    public byte BitsPerWord;

    /// <summary>1 = deselect between transfers.</summary>
    public byte ChipSelectChange;

    /// <summary>TX lines (1, 2, 4).</summary>
    public byte TxNBits;

    /// <summary>RX lines.</summary>
    public byte RxNBits;

    /// <summary>Inter-word delay, µs.</summary>
    public byte WordDelayMicroseconds;

    /// <summary>Padding.</summary>
    public byte Pad;
}

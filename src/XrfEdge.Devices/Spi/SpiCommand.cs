using System.Buffers.Binary;

namespace XrfEdge.Devices.Spi;

/// <summary>
/// A 12-byte command transfer of the SPI MCA frame protocol (docs/spi-mca-protocol.md §3), little-endian:
/// <code>
/// 0 0x58 'X' | 1 opcode | 2 flags u16 | 4 offset u32 | 8 length u16 | 10 CRC-16/CCITT-FALSE of bytes 0–9
/// </code>
/// </summary>
/// <param name="Opcode">What to do.</param>
/// <param name="Flags">SNAPSHOT: bit 0 = clear after copying.</param>
/// <param name="Offset">READ: byte offset into the snapshot image; START: preset live time, ms.</param>
/// <param name="Length">READ: bytes wanted (1–4092).</param>
public readonly record struct SpiCommand(SpiOpcode Opcode, ushort Flags = 0, uint Offset = 0, ushort Length = 0)
{
    /// <summary>Command length, bytes: 12.</summary>
    public const int Size = 12;

    /// <summary>The command marker byte 'X'.</summary>
    public const byte Marker = 0x58;

    /// <summary>Most bytes one READ returns: 4092 (response byte + data ≤ 4096 = spidev bufsiz; a multiple of 2, 3 and 4).</summary>
    public const int MaxReadLength = 4092;

    /// <summary>Encodes the command with its CRC.</summary>
    public byte[] Encode()
    {
        var d = new byte[Size];
        d[0] = Marker;
        d[1] = (byte)Opcode;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(2), Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), Offset);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(8), Length);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(10), SpiCrc.Crc16(d.AsSpan(0, 10)));
        return d;
    }

    /// <summary>Decodes a command (the device's side); null when the marker or CRC is wrong.</summary>
    public static SpiCommand? TryDecode(ReadOnlySpan<byte> d)
    {
        if (d.Length < Size || d[0] != Marker || BinaryPrimitives.ReadUInt16LittleEndian(d[10..]) != SpiCrc.Crc16(d[..10]))
        {
            return null;
        }

        return new SpiCommand((SpiOpcode)d[1], BinaryPrimitives.ReadUInt16LittleEndian(d[2..]), BinaryPrimitives.ReadUInt32LittleEndian(d[4..]), BinaryPrimitives.ReadUInt16LittleEndian(d[8..]));
    }
}

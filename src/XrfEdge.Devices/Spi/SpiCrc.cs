namespace XrfEdge.Devices.Spi;

/// <summary>
/// The two CRCs of the SPI frame protocol (docs/spi-mca-protocol.md): CRC-16/CCITT-FALSE (poly 0x1021,
/// init 0xFFFF, no reflection; check value of "123456789" = 0x29B1) and CRC-32/ISO-HDLC as in zlib/Ethernet
/// (reflected poly 0xEDB88320, init and xor-out 0xFFFFFFFF; check value 0xCBF43926).
/// </summary>
public static class SpiCrc
{
    private static readonly uint[] Crc32Table = BuildCrc32Table();

    /// <summary>CRC-16/CCITT-FALSE of <paramref name="bytes"/>.</summary>
    public static ushort Crc16(ReadOnlySpan<byte> bytes)
    {
        ushort crc = 0xFFFF;
        foreach (var b in bytes)
        {
            crc ^= (ushort)(b << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
        }

        return crc;
    }

    /// <summary>CRC-32 (zlib) of <paramref name="bytes"/>, continuing from <paramref name="crc"/> (pass the previous result to chain chunks).</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes, uint crc = 0)
    {
        crc = ~crc;
        foreach (var b in bytes)
        {
            crc = Crc32Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildCrc32Table()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}

using System.Buffers.Binary;
using System.Globalization;

namespace XrfEdge.Devices.Amptek;

/// <summary>
/// One packet of the Amptek DP5-family ("FW6") protocol, either direction.
/// <code>
/// offset  0     1     2     3     4        5        6 … 5+LEN     6+LEN    7+LEN
///         0xF5  0xFA  PID1  PID2  LEN_MSB  LEN_LSB  data[LEN]     CHK_MSB  CHK_LSB
/// </code>
/// LEN is big-endian and counts the data only; CHK is the two's complement of the 16-bit sum of every
/// byte before it, sync included, so the 16-bit sum over the whole packet (checksum read big-endian) is 0.
/// Requests carry at most 512 data bytes, responses at most 32767 (DP5 Programmer's Guide rev A7 §4).
/// </summary>
/// <param name="Pid1">Packet class (0x01 status request, 0x80 status, 0x81 spectrum, 0xFF ACK …).</param>
/// <param name="Pid2">Packet kind within the class.</param>
/// <param name="Data">The data field, 0–32767 bytes.</param>
public sealed record Dp5Packet(byte Pid1, byte Pid2, byte[] Data)
{
    /// <summary>First sync byte (guide §4).</summary>
    public const byte Sync1 = 0xF5;

    /// <summary>Second sync byte (guide §4).</summary>
    public const byte Sync2 = 0xFA;

    /// <summary>Sync + PIDs + length: 6 bytes.</summary>
    public const int HeaderLength = 6;

    /// <summary>Header plus checksum: 8 bytes of overhead per packet.</summary>
    public const int OverheadLength = HeaderLength + 2;

    /// <summary>Largest data field of a response, bytes: 32767 (LEN_MSB &lt; 0x80).</summary>
    public const int MaxResponseDataLength = 32767;

    /// <summary>Largest data field of a request, bytes: 512.</summary>
    public const int MaxRequestDataLength = 512;

    /// <summary>Largest whole packet, bytes: 32775.</summary>
    public const int MaxPacketLength = MaxResponseDataLength + OverheadLength;

    /// <summary>A packet with no data.</summary>
    public Dp5Packet(byte pid1, byte pid2)
        : this(pid1, pid2, [])
    {
    }

    /// <summary>Length of <see cref="Encode()"/>'s output, bytes.</summary>
    public int EncodedLength => Data.Length + OverheadLength;

    /// <summary>True for ACK/error packets (PID1 = 0xFF).</summary>
    public bool IsAck => Pid1 == 0xFF;

    /// <summary>The wire bytes of this packet.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Writes the wire bytes into <paramref name="destination"/> (at least <see cref="EncodedLength"/> bytes).</summary>
    public void Encode(Span<byte> destination)
    {
        if (Data.Length > MaxResponseDataLength)
        {
            throw new InvalidOperationException($"DP5 packet data of {Data.Length} bytes exceeds the {MaxResponseDataLength}-byte limit");
        }

        destination[0] = Sync1;
        destination[1] = Sync2;
        destination[2] = Pid1;
        destination[3] = Pid2;
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)Data.Length);
        Data.CopyTo(destination[HeaderLength..]);
        var end = HeaderLength + Data.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[end..], Checksum(destination[..end]));
    }

    /// <summary>Two's complement of the 16-bit sum of <paramref name="bytes"/> (guide §4).</summary>
    public static ushort Checksum(ReadOnlySpan<byte> bytes)
    {
        uint sum = 0;
        foreach (var b in bytes)
        {
            sum += b;
        }

        return (ushort)(0x10000 - (sum & 0xFFFF));
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"DP5 {Pid1:X2}/{Pid2:X2} ({Data.Length} data bytes)");
}

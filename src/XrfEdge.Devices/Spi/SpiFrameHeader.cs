using System.Buffers.Binary;
using System.Globalization;

namespace XrfEdge.Devices.Spi;

/// <summary>
/// The 40-byte snapshot header of the SPI MCA frame protocol (docs/spi-mca-protocol.md §5), little-endian:
/// <code>
///  0 magic "XMCA" (58 4D 43 41)  4 version u8 = 1   5 count width u8 (2, 3, 4 bytes)  6 channels u16 (256–16384)
///  8 snapshot sequence u32      12 live time ms u32 16 real time ms u32              20 fast count u32
/// 24 slow count u32             28 flags u16 (b0 acquiring, b1 preset reached, b2 a channel saturated)
/// 30 payload length u32 (= channels × width)        34 payload CRC-32 u32           38 header CRC-16 u16 (bytes 0–37)
/// </code>
/// </summary>
public sealed record SpiFrameHeader
{
    /// <summary>Header length, bytes: 40.</summary>
    public const int Length = 40;

    /// <summary>Protocol version this code speaks: 1.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>The magic bytes "XMCA".</summary>
    public static ReadOnlySpan<byte> Magic => "XMCA"u8;

    /// <summary>Protocol version.</summary>
    public byte Version { get; init; } = CurrentVersion;

    /// <summary>Bytes per channel count: 2, 3 or 4 (little-endian).</summary>
    public byte CountWidth { get; init; } = 4;

    /// <summary>Channels, 256–16384.</summary>
    public int ChannelCount { get; init; }

    /// <summary>Snapshot sequence number (increments per SNAPSHOT, wrapping from 2^32 − 1 to 0; compare with <see cref="IsSequenceAfter"/>).</summary>
    public uint Sequence { get; init; }

    /// <summary>Live time, 1 ms resolution.</summary>
    public TimeSpan LiveTime { get; init; }

    /// <summary>Real time, 1 ms resolution.</summary>
    public TimeSpan RealTime { get; init; }

    /// <summary>Fast-channel (input) count.</summary>
    public uint FastCount { get; init; }

    /// <summary>Slow-channel (stored) count.</summary>
    public uint SlowCount { get; init; }

    /// <summary>Flag bits: 1 acquiring, 2 preset reached, 4 a channel saturated.</summary>
    public ushort Flags { get; init; }

    /// <summary>Payload CRC-32 (zlib) over the counts.</summary>
    public uint PayloadCrc32 { get; init; }

    /// <summary>Payload length, bytes.</summary>
    public int PayloadLength => ChannelCount * CountWidth;

    /// <summary>Acquiring flag.</summary>
    public bool Acquiring => (Flags & 1) != 0;

    /// <summary>Preset reached flag.</summary>
    public bool PresetReached => (Flags & 2) != 0;

    /// <summary>Saturated flag: at least one channel is clipped at 2^(8·<see cref="CountWidth"/>) − 1 (§5, flags bit 2).</summary>
    public bool Saturated => (Flags & 4) != 0;

    /// <summary>The largest count a channel can hold, 2^(8·<see cref="CountWidth"/>) − 1 (65535 for 2 bytes).</summary>
    public long MaximumCount => (1L << (8 * CountWidth)) - 1;

    /// <summary>
    /// Whether snapshot sequence <paramref name="later"/> comes after <paramref name="earlier"/> in serial-number
    /// arithmetic (RFC 1982 §3.2, SERIAL_BITS = 32): the u32 counter of §5 wraps from 2^32 − 1 to 0, so 0 follows
    /// 4294967295. "After" means 1 to 2^31 − 1 steps ahead; 0 steps is a repeat, and a distance of exactly 2^31 is
    /// undefined in RFC 1982 and counts as not after. A device that restarts from a sequence 2^31 or more ahead of its
    /// new one therefore looks like a step forward; <see cref="SpiMcaClient.MeasureAsync"/> still catches it by the
    /// restarted device's idle state and zero live time (docs/spi-mca-protocol.md §6).
    /// </summary>
    public static bool IsSequenceAfter(uint later, uint earlier)
    {
        var distance = unchecked(later - earlier);
        return distance is > 0 and < 0x8000_0000u;
    }

    /// <summary>Encodes the header including its CRC-16.</summary>
    public byte[] Encode()
    {
        var d = new byte[Length];
        Magic.CopyTo(d);
        d[4] = Version;
        d[5] = CountWidth;
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(6), (ushort)ChannelCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(12), (uint)LiveTime.TotalMilliseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(16), (uint)RealTime.TotalMilliseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(20), FastCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(24), SlowCount);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(28), Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(30), (uint)PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(34), PayloadCrc32);
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(38), SpiCrc.Crc16(d.AsSpan(0, 38)));
        return d;
    }

    /// <summary>Decodes and validates a header; returns null and a reason when it is not acceptable.</summary>
    public static SpiFrameHeader? TryDecode(ReadOnlySpan<byte> d, out string? error)
    {
        error = null;
        if (d.Length != Length)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"header is {d.Length} bytes, expected {Length}");
            return null;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(d[38..]) != SpiCrc.Crc16(d[..38]))
        {
            error = "header CRC-16 mismatch";
            return null;
        }

        if (!d[..4].SequenceEqual(Magic))
        {
            error = "bad magic (expected \"XMCA\")";
            return null;
        }

        if (d[4] != CurrentVersion)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"protocol version {d[4]} is not supported (this build speaks {CurrentVersion})");
            return null;
        }

        var width = d[5];
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]);
        if (width is not (2 or 3 or 4) || channels is < 256 or > 16384 || BinaryPrimitives.ReadUInt32LittleEndian(d[30..]) != (uint)(channels * width))
        {
            error = string.Create(CultureInfo.InvariantCulture, $"inconsistent layout: {channels} channels × {width} bytes vs payload length {BinaryPrimitives.ReadUInt32LittleEndian(d[30..])}");
            return null;
        }

        return new SpiFrameHeader
        {
            Version = d[4],
            CountWidth = width,
            ChannelCount = channels,
            Sequence = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]),
            LiveTime = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32LittleEndian(d[12..])),
            RealTime = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32LittleEndian(d[16..])),
            FastCount = BinaryPrimitives.ReadUInt32LittleEndian(d[20..]),
            SlowCount = BinaryPrimitives.ReadUInt32LittleEndian(d[24..]),
            Flags = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]),
            PayloadCrc32 = BinaryPrimitives.ReadUInt32LittleEndian(d[34..]),
        };
    }
}

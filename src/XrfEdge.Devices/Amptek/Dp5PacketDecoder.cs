using System.Buffers.Binary;

namespace XrfEdge.Devices.Amptek;

/// <summary>
/// Incremental, resynchronising decoder of DP5 packets from a byte stream (layout on <see cref="Dp5Packet"/>;
/// parsing recipe of DP5 Programmer's Guide rev A7 §4 and §3.3). Feed it bytes in any split; it hunts for
/// F5 FA, rejects a length with the MSB set (LEN &gt; 32767, as the Amptek SDK's ParsePacket does), with
/// <see cref="Dp5PacketKinds.Responses"/> also a header that no response has (unknown PID pair, or a LEN that
/// PID pair cannot carry) as soon as its 6 bytes are in, checks the checksum, and after any rejection rescans
/// from the byte after the rejected sync, so a valid packet hidden inside garbage or behind a truncated packet is
/// still found. Memory is bounded: one work buffer of two maximum-size packets (65550 bytes), whatever the input.
/// Not thread-safe; one decoder per link.
/// </summary>
public sealed class Dp5PacketDecoder
{
    private const int Capacity = Dp5Packet.MaxPacketLength * 2;

    private readonly byte[] _work = new byte[Capacity];
    private readonly Dp5PacketKinds _kinds;
    private int _start;
    private int _end;

    /// <summary>Creates a decoder that applies the framing rules only (<see cref="Dp5PacketKinds.Any"/>).</summary>
    public Dp5PacketDecoder()
        : this(Dp5PacketKinds.Any)
    {
    }

    /// <summary>Creates a decoder for <paramref name="kinds"/>: a host reading a DP5 passes <see cref="Dp5PacketKinds.Responses"/>.</summary>
    public Dp5PacketDecoder(Dp5PacketKinds kinds) => _kinds = kinds;

    private enum HeaderVerdict
    {
        Plausible,
        UnknownPid,
        ImpossibleLength,
    }

    /// <summary>Bytes skipped while hunting for a sync pattern or dropped with a rejected header, since construction.</summary>
    public long DiscardedByteCount { get; private set; }

    /// <summary>Packets whose checksum did not match, since construction.</summary>
    public long ChecksumErrorCount { get; private set; }

    /// <summary>Headers rejected for an impossible length (MSB set; with <see cref="Dp5PacketKinds.Responses"/> also a LEN its PID pair cannot carry), since construction.</summary>
    public long LengthErrorCount { get; private set; }

    /// <summary>Headers rejected because no response has their PID pair (<see cref="Dp5PacketKinds.Responses"/> only), since construction.</summary>
    public long PidErrorCount { get; private set; }

    /// <summary>Packets decoded, since construction.</summary>
    public long PacketCount { get; private set; }

    /// <summary>Total rejections (checksum + length + PID): a caller waiting for a reply uses this to retry at once.</summary>
    public long RejectedCount => ChecksumErrorCount + LengthErrorCount + PidErrorCount;

    /// <summary>Bytes held for an incomplete packet (0–32774).</summary>
    public int BufferedByteCount => _end - _start;

    /// <summary>
    /// LEN of the packet being collected, bytes (0–32767): its 6-byte header is in and passed the checks, its data and
    /// checksum are not yet. Null when no such header is held. A caller waiting for a reply uses it to hear out a reply
    /// longer than it expected.
    /// </summary>
    public int? PendingDataLength => _end - _start >= Dp5Packet.HeaderLength
        ? BinaryPrimitives.ReadUInt16BigEndian(_work.AsSpan(_start + 4))
        : null;

    /// <summary>Drops any partial packet (after a time-out, before a retry).</summary>
    public void Reset()
    {
        DiscardedByteCount += _end - _start;
        _start = _end = 0;
    }

    /// <summary>Consumes all of <paramref name="input"/> and appends every complete, valid packet to <paramref name="output"/>.</summary>
    public void Feed(ReadOnlySpan<byte> input, ICollection<Dp5Packet> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        while (!input.IsEmpty)
        {
            if (_start > 0)
            {
                _work.AsSpan(_start, _end - _start).CopyTo(_work);
                _end -= _start;
                _start = 0;
            }

            // After Process at most one partial packet (< 32775 bytes) remains, so there is always room.
            var take = Math.Min(Capacity - _end, input.Length);
            input[..take].CopyTo(_work.AsSpan(_end));
            _end += take;
            input = input[take..];
            Process(output);
        }
    }

    private void Process(ICollection<Dp5Packet> output)
    {
        while (true)
        {
            var window = _work.AsSpan(_start, _end - _start);
            var at = FindSync(window);
            if (at < 0)
            {
                // Keep a trailing F5: it may be the first half of a sync split across reads.
                var keep = window.Length > 0 && window[^1] == Dp5Packet.Sync1 ? 1 : 0;
                DiscardedByteCount += window.Length - keep;
                _start = _end - keep;
                return;
            }

            DiscardedByteCount += at;
            _start += at;
            window = window[at..];
            if (window.Length < Dp5Packet.HeaderLength)
            {
                return;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(window[4..]);
            var verdict = length > Dp5Packet.MaxResponseDataLength ? HeaderVerdict.ImpossibleLength
                : _kinds == Dp5PacketKinds.Responses ? JudgeResponseHeader(window[2], window[3], length)
                : HeaderVerdict.Plausible;
            if (verdict != HeaderVerdict.Plausible)
            {
                // Resynchronise at the byte after this sync now, rather than wait for the LEN bytes it announces.
                if (verdict == HeaderVerdict.UnknownPid)
                {
                    PidErrorCount++;
                }
                else
                {
                    LengthErrorCount++;
                }

                DiscardedByteCount++;
                _start++;
                continue;
            }

            var total = Dp5Packet.OverheadLength + length;
            if (window.Length < total)
            {
                return;
            }

            var packet = window[..total];
            if (!ChecksumValid(packet))
            {
                ChecksumErrorCount++;
                DiscardedByteCount++;
                _start++;
                continue;
            }

            output.Add(new Dp5Packet(packet[2], packet[3], packet[Dp5Packet.HeaderLength..^2].ToArray()));
            PacketCount++;
            _start += total;
        }
    }

    /// <summary>The response rules of <see cref="Dp5PacketKinds.Responses"/> (guide rev A7 Table 2).</summary>
    private static HeaderVerdict JudgeResponseHeader(byte pid1, byte pid2, int length) => pid1 switch
    {
        0x80 when pid2 != 0x01 => HeaderVerdict.UnknownPid,
        0x80 => length == Dp5Status.Length ? HeaderVerdict.Plausible : HeaderVerdict.ImpossibleLength,
        0x81 when Dp5Spectrum.ChannelsFor(pid2) is var channels && channels > 0 =>
            length == (3 * channels) + ((pid2 & 1) == 0 ? Dp5Status.Length : 0) ? HeaderVerdict.Plausible : HeaderVerdict.ImpossibleLength,
        0x81 => HeaderVerdict.UnknownPid,
        0x82 => HeaderVerdict.Plausible,
        0x8F when pid2 != 0x7F => HeaderVerdict.UnknownPid,
        0x8F or 0xFF => length <= Dp5Packet.MaxRequestDataLength ? HeaderVerdict.Plausible : HeaderVerdict.ImpossibleLength,
        _ => HeaderVerdict.UnknownPid,
    };

    private static int FindSync(ReadOnlySpan<byte> window)
    {
        var offset = 0;
        while (true)
        {
            var at = window[offset..].IndexOf(Dp5Packet.Sync1);
            if (at < 0)
            {
                return -1;
            }

            at += offset;
            if (at + 1 >= window.Length || window[at + 1] == Dp5Packet.Sync2)
            {
                return at;
            }

            offset = at + 1;
        }
    }

    private static bool ChecksumValid(ReadOnlySpan<byte> packet)
    {
        var body = packet[..^2];
        uint sum = 0;
        foreach (var b in body)
        {
            sum += b;
        }

        sum += BinaryPrimitives.ReadUInt16BigEndian(packet[^2..]);
        return (sum & 0xFFFF) == 0;
    }
}

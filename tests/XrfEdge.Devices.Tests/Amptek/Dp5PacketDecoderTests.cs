using XrfEdge.Devices.Amptek;

namespace XrfEdge.Devices.Tests.Amptek;

public sealed class Dp5PacketDecoderTests
{
    private static readonly Dp5Packet[] Sample =
    [
        new(0xFF, 0x00),
        new(0x80, 0x01, Enumerable.Range(0, 64).Select(i => (byte)i).ToArray()),
        new(0x82, 0x07, "MCAC=1024;GAIN=7.005;"u8.ToArray()),

        // Data containing F5 FA must not confuse the framing.
        new(0x8F, 0x7F, [0xF5, 0xFA, 0xF5, 0xF5, 0xFA, 0x00]),
    ];

    [Fact]
    public void Feed_GuideAckBytes_DecodesAckOk()
    {
        var output = new List<Dp5Packet>();
        new Dp5PacketDecoder().Feed(Dp5PacketTests.Hex("F5 FA FF 00 00 00 FD 12"), output);
        var packet = Assert.Single(output);
        Assert.True(packet.IsAck);
        Assert.Equal(0x00, packet.Pid2);
        Assert.Empty(packet.Data);
    }

    [Fact]
    public void Feed_StreamSplitAtEveryBoundary_DecodesSamePackets()
    {
        var stream = Sample.SelectMany(p => p.Encode()).ToArray();
        for (var split = 0; split <= stream.Length; split++)
        {
            var decoder = new Dp5PacketDecoder();
            var output = new List<Dp5Packet>();
            decoder.Feed(stream.AsSpan(0, split), output);
            decoder.Feed(stream.AsSpan(split), output);
            AssertSamePackets(Sample, output);
            Assert.Equal(0, decoder.BufferedByteCount);
        }
    }

    [Fact]
    public void Feed_OneByteAtATime_DecodesSamePackets()
    {
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        foreach (var b in Sample.SelectMany(p => p.Encode()))
        {
            decoder.Feed([b], output);
        }

        AssertSamePackets(Sample, output);
    }

    [Fact]
    public void Feed_RoundTripRandomPackets_ReturnsThemUnchanged()
    {
        var random = new Random(42);
        var packets = Enumerable.Range(0, 300).Select(_ =>
        {
            var data = new byte[random.Next(0, 3000)];
            random.NextBytes(data);
            return new Dp5Packet((byte)random.Next(256), (byte)random.Next(256), data);
        }).ToArray();
        var stream = packets.SelectMany(p => p.Encode()).ToArray();
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        for (var offset = 0; offset < stream.Length;)
        {
            var n = Math.Min(random.Next(1, 5000), stream.Length - offset);
            decoder.Feed(stream.AsSpan(offset, n), output);
            offset += n;
        }

        AssertSamePackets(packets, output);
        Assert.Equal(0, decoder.RejectedCount);
    }

    [Fact]
    public void Feed_MaximumSizePacket_Decodes()
    {
        // 32767 data bytes is the guide's response limit (§4): the whole packet is 32775 bytes.
        var packet = new Dp5Packet(0x81, 0x0C, new byte[Dp5Packet.MaxResponseDataLength]);
        var output = new List<Dp5Packet>();
        new Dp5PacketDecoder().Feed(packet.Encode(), output);
        Assert.Equal(Dp5Packet.MaxResponseDataLength, Assert.Single(output).Data.Length);
    }

    [Fact]
    public void Feed_GarbageBeforePacket_SkipsGarbageAndCountsIt()
    {
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        byte[] garbage = [0x00, 0xF5, 0x13, 0xFA, 0x11, 0xF5];
        decoder.Feed([.. garbage, .. Sample[1].Encode()], output);
        AssertSamePackets([Sample[1]], output);
        Assert.Equal(garbage.Length, decoder.DiscardedByteCount);
    }

    [Fact]
    public void Feed_BadChecksum_RejectsAndResyncsOnNextPacket()
    {
        var bad = Sample[1].Encode();
        bad[^1] ^= 0x01;
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        decoder.Feed([.. bad, .. Sample[2].Encode()], output);
        AssertSamePackets([Sample[2]], output);
        Assert.Equal(1, decoder.ChecksumErrorCount);
    }

    [Fact]
    public void Feed_TruncatedPacketFollowedByValidOnes_FindsTheValidOnesByRescanning()
    {
        // A dropped byte makes the first packet's LEN overrun into the next packets; the rescan after the
        // checksum failure must still find every packet that followed.
        var truncated = Sample[1].Encode();
        truncated = [.. truncated.AsSpan(0, 20), .. truncated.AsSpan(21)];
        var following = Enumerable.Repeat(Sample[2], 5).ToArray();
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        decoder.Feed([.. truncated, .. following.SelectMany(p => p.Encode())], output);
        AssertSamePackets(following, output);
        Assert.Equal(1, decoder.ChecksumErrorCount);
    }

    [Fact]
    public void Feed_LengthWithMsbSet_RejectedAsLengthError()
    {
        // Amptek SDK ParsePacket.cpp rejects LEN_MSB >= 128 (responses are at most 32767 bytes).
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        decoder.Feed([0xF5, 0xFA, 0x81, 0x0C, 0x80, 0x00, .. Sample[0].Encode()], output);
        AssertSamePackets([Sample[0]], output);
        Assert.Equal(1, decoder.LengthErrorCount);
    }

    [Fact]
    public void Reset_DropsPartialPacket()
    {
        var decoder = new Dp5PacketDecoder();
        var output = new List<Dp5Packet>();
        decoder.Feed(Sample[1].Encode().AsSpan(0, 30), output);
        Assert.Equal(30, decoder.BufferedByteCount);
        decoder.Reset();
        decoder.Feed(Sample[0].Encode(), output);
        AssertSamePackets([Sample[0]], output);
    }

    internal static void AssertSamePackets(IReadOnlyList<Dp5Packet> expected, IReadOnlyList<Dp5Packet> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Pid1, actual[i].Pid1);
            Assert.Equal(expected[i].Pid2, actual[i].Pid2);
            Assert.Equal(expected[i].Data, actual[i].Data);
        }
    }
}

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

    [Theory]
    [InlineData(Dp5PacketKinds.Any)]
    [InlineData(Dp5PacketKinds.Responses)]
    public void Feed_StreamSplitAtEveryBoundary_DecodesSamePackets(Dp5PacketKinds kinds)
    {
        var stream = Sample.SelectMany(p => p.Encode()).ToArray();
        for (var split = 0; split <= stream.Length; split++)
        {
            var decoder = new Dp5PacketDecoder(kinds);
            var output = new List<Dp5Packet>();
            decoder.Feed(stream.AsSpan(0, split), output);
            decoder.Feed(stream.AsSpan(split), output);
            AssertSamePackets(Sample, output);
            Assert.Equal(0, decoder.BufferedByteCount);
        }
    }

    [Theory]
    [InlineData(Dp5PacketKinds.Any)]
    [InlineData(Dp5PacketKinds.Responses)]
    public void Feed_OneByteAtATime_DecodesSamePackets(Dp5PacketKinds kinds)
    {
        var decoder = new Dp5PacketDecoder(kinds);
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
    public void Feed_ResponsesEveryGuideResponseType_DecodesAllWithoutRejection()
    {
        // Guide rev A7 Table 2 (reference note §1.5, §1.7): status, the 12 spectrum forms at their exact LEN, 82/xx of
        // assorted lengths (diagnostic 256 bytes, readback text, list-mode data), echo, and ACKs with 0, echo or 3 bytes.
        Dp5Packet[] responses =
        [
            new(0x80, 0x01, new byte[64]),
            .. Enumerable.Range(1, 12).Select(pid2 => new Dp5Packet(0x81, (byte)pid2, new byte[(3 * Dp5Spectrum.ChannelsFor((byte)pid2)) + (pid2 % 2 == 0 ? 64 : 0)])),
            new(0x82, 0x05, new byte[256]),
            new(0x82, 0x07, "MCAC=1024;GAIN=7.005;"u8.ToArray()),
            new(0x82, 0x0A, new byte[Dp5Packet.MaxResponseDataLength]),
            new(0x8F, 0x7F, new byte[Dp5Packet.MaxRequestDataLength]),
            new(0xFF, 0x00),
            new(0xFF, 0x07, "ZZZZ=1"u8.ToArray()),
            new(0xFF, 0x0F, [0x01, 0x02, 0x03]),
        ];
        var decoder = new Dp5PacketDecoder(Dp5PacketKinds.Responses);
        var output = new List<Dp5Packet>();
        decoder.Feed(responses.SelectMany(p => p.Encode()).ToArray(), output);
        AssertSamePackets(responses, output);
        Assert.Equal(0, decoder.RejectedCount);
    }

    [Fact]
    public void Feed_ResponsesStraySyncWithUnknownPidAndHugeLength_ResyncsAtOnceAndDecodesTheFollowingReply()
    {
        // Line noise holding F5 FA, PID 12/34 (no DP5 response has PID1 0x12) and LEN 0x7FFF: the framing rules alone
        // would wait for 32775 bytes, swallowing the real reply until the session's time-out.
        byte[] noise = [0x00, 0x13, 0xF5, 0xFA, 0x12, 0x34, 0x7F, 0xFF, 0x55, 0xAA];
        byte[] stream = [.. noise, .. Sample[1].Encode()];
        for (var split = 0; split <= stream.Length; split++)
        {
            var decoder = new Dp5PacketDecoder(Dp5PacketKinds.Responses);
            var output = new List<Dp5Packet>();
            decoder.Feed(stream.AsSpan(0, split), output);
            decoder.Feed(stream.AsSpan(split), output);
            AssertSamePackets([Sample[1]], output);
            Assert.Equal(0, decoder.BufferedByteCount);
            Assert.Equal(1, decoder.PidErrorCount);
            Assert.Equal(noise.Length, decoder.DiscardedByteCount);
        }

        // What the framing rules alone do with the same bytes: nothing out, the reply buried in a pending packet.
        var framingOnly = new Dp5PacketDecoder();
        var none = new List<Dp5Packet>();
        framingOnly.Feed(stream, none);
        Assert.Empty(none);
        Assert.Equal(stream.Length - 2, framingOnly.BufferedByteCount);
    }

    [Theory]
    [InlineData(0x80, 0x02)] // status is 80/01 only
    [InlineData(0x81, 0x00)] // spectrum PID2 is 1–12
    [InlineData(0x81, 0x0D)]
    [InlineData(0x8F, 0x00)] // echo is 8F/7F only
    [InlineData(0x01, 0x01)] // a request (status), never a response
    [InlineData(0x83, 0x01)]
    public void Feed_ResponsesUnknownPidPair_RejectedAsPidError(byte pid1, byte pid2)
    {
        var decoder = new Dp5PacketDecoder(Dp5PacketKinds.Responses);
        var output = new List<Dp5Packet>();
        decoder.Feed([.. new Dp5Packet(pid1, pid2, new byte[64]).Encode(), .. Sample[0].Encode()], output);
        AssertSamePackets([Sample[0]], output);
        Assert.Equal(1, decoder.PidErrorCount);
        Assert.Equal(0, decoder.BufferedByteCount);
    }

    [Theory]
    [InlineData(0x80, 0x01, 0x0041)] // status carries 64 bytes
    [InlineData(0x81, 0x06, 0x7FFF)] // 1024 channels + status is 0x0C40
    [InlineData(0x81, 0x05, 0x0C40)] // 1024 channels without status is 0x0C00
    [InlineData(0x81, 0x0C, 0x6000)] // 8192 channels + status is 0x6040
    [InlineData(0x8F, 0x7F, 0x0201)] // an echo repeats at most a 512-byte request
    [InlineData(0xFF, 0x05, 0x0201)] // an ACK echoes at most part of a 512-byte request
    public void Feed_ResponsesLengthThePidsCannotCarry_RejectedAtOnceAsLengthError(byte pid1, byte pid2, int length)
    {
        // Only the 6 header bytes and the following reply: no data, so a decoder that waited for LEN would output nothing.
        var decoder = new Dp5PacketDecoder(Dp5PacketKinds.Responses);
        var output = new List<Dp5Packet>();
        decoder.Feed([0xF5, 0xFA, pid1, pid2, (byte)(length >> 8), (byte)length, .. Sample[0].Encode()], output);
        AssertSamePackets([Sample[0]], output);
        Assert.Equal(1, decoder.LengthErrorCount);
        Assert.Equal(0, decoder.BufferedByteCount);
    }

    [Fact]
    public void PendingDataLength_HeaderInDataNot_IsTheAnnouncedLen()
    {
        // Sample[1] is a status packet: LEN 64.
        var bytes = Sample[1].Encode();
        var decoder = new Dp5PacketDecoder(Dp5PacketKinds.Responses);
        var output = new List<Dp5Packet>();
        decoder.Feed(bytes.AsSpan(0, 5), output);
        Assert.Null(decoder.PendingDataLength);
        decoder.Feed(bytes.AsSpan(5, 10), output);
        Assert.Equal(64, decoder.PendingDataLength);
        decoder.Feed(bytes.AsSpan(15), output);
        Assert.Null(decoder.PendingDataLength);
        Assert.Single(output);
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

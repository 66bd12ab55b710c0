using XrfEdge.Devices.Amptek;

namespace XrfEdge.Devices.Tests.Amptek;

public sealed class Dp5SpectrumTests
{
    // Guide rev A7 Table 2: PID2 1,3,5,7,9,11 = 256…8192 channels; +1 = with status.
    [Theory]
    [InlineData(0x01, 256)]
    [InlineData(0x02, 256)]
    [InlineData(0x05, 1024)]
    [InlineData(0x08, 2048)]
    [InlineData(0x0B, 8192)]
    [InlineData(0x0C, 8192)]
    [InlineData(0x00, 0)]
    [InlineData(0x0D, 0)]
    public void ChannelsFor_Pid2_MatchesGuideTable(byte pid2, int channels) => Assert.Equal(channels, Dp5Spectrum.ChannelsFor(pid2));

    [Fact]
    public void Decode_FixedBytes_ThreeByteLittleEndianCounts()
    {
        var data = new byte[3 * 256];
        data[0] = 0x01; data[1] = 0x02; data[2] = 0x03;        // channel 0 = 0x030201 = 197121
        data[3 * 255] = 0xFF; data[(3 * 255) + 1] = 0xFF; data[(3 * 255) + 2] = 0xFF; // channel 255 = 16777215 (24-bit maximum)
        var spectrum = Dp5Spectrum.Decode(new Dp5Packet(0x81, 0x01, data));
        Assert.Equal(256, spectrum.Counts.Length);
        Assert.Equal(0x030201, spectrum.Counts[0]);
        Assert.Equal(16_777_215, spectrum.Counts[255]);
        Assert.Null(spectrum.Status);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(1024)]
    [InlineData(8192)]
    public void EncodeDecode_WithStatus_RoundTrips(int channels)
    {
        var random = new Random(channels);
        var counts = Enumerable.Range(0, channels).Select(_ => random.Next(0, Dp5Spectrum.MaxChannelCount + 1)).ToArray();
        var status = new Dp5Status { SlowCount = 12345, AccumulationTime = TimeSpan.FromSeconds(2.5), DeviceType = Dp5DeviceType.Dp5 };
        var packet = new Dp5Spectrum(counts, status).Encode();
        Assert.Equal((3 * channels) + 64, packet.Data.Length);
        var decoded = Dp5Spectrum.Decode(packet);
        Assert.Equal(counts, decoded.Counts);
        Assert.Equal(12345u, decoded.Status!.SlowCount);
        Assert.Equal(TimeSpan.FromSeconds(2.5), decoded.Status.AccumulationTime);
    }

    [Fact]
    public void Decode_LengthDoesNotMatchPid2_ThrowsNamingBoth()
    {
        var e = Assert.Throws<Dp5ProtocolException>(() => Dp5Spectrum.Decode(new Dp5Packet(0x81, 0x06, new byte[3 * 1024])));
        Assert.Contains("3136", e.Message, StringComparison.Ordinal); // 3·1024 + 64
        Assert.Contains("3072", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_CountAbove24Bits_Saturates()
    {
        var decoded = Dp5Spectrum.Decode(new Dp5Spectrum([.. new int[255], 20_000_000], null).Encode());
        Assert.Equal(Dp5Spectrum.MaxChannelCount, decoded.Counts[255]);
    }
}

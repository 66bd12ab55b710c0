using System.Text;
using XrfEdge.Devices.Amptek;

namespace XrfEdge.Devices.Tests.Amptek;

public sealed class Dp5PacketTests
{
    // Test vectors: docs reference note §1.2, computed with the guide's checksum rule and matching the values printed in DP5 Programmer's Guide rev A7.
    [Theory]
    [InlineData(0x01, 0x01, "F5 FA 01 01 00 00 FE 0F")]
    [InlineData(0x02, 0x01, "F5 FA 02 01 00 00 FE 0E")]
    [InlineData(0x02, 0x02, "F5 FA 02 02 00 00 FE 0D")]
    [InlineData(0x02, 0x03, "F5 FA 02 03 00 00 FE 0C")]
    [InlineData(0x02, 0x04, "F5 FA 02 04 00 00 FE 0B")]
    [InlineData(0xF0, 0x01, "F5 FA F0 01 00 00 FD 20")]
    [InlineData(0xF0, 0x02, "F5 FA F0 02 00 00 FD 1F")]
    [InlineData(0xF0, 0x03, "F5 FA F0 03 00 00 FD 1E")]
    [InlineData(0xF0, 0x21, "F5 FA F0 21 00 00 FD 00")]
    [InlineData(0xFF, 0x00, "F5 FA FF 00 00 00 FD 12")]
    public void Encode_GuideVectorWithoutData_MatchesBytes(byte pid1, byte pid2, string expected)
    {
        Assert.Equal(Hex(expected), new Dp5Packet(pid1, pid2).Encode());
    }

    [Fact]
    public void Requests_NamedFactories_MatchGuideVectors()
    {
        Assert.Equal(Hex("F5 FA 01 01 00 00 FE 0F"), Dp5Requests.Status().Encode());
        Assert.Equal(Hex("F5 FA 02 01 00 00 FE 0E"), Dp5Requests.Spectrum(withStatus: false, clear: false).Encode());
        Assert.Equal(Hex("F5 FA 02 02 00 00 FE 0D"), Dp5Requests.Spectrum(withStatus: false, clear: true).Encode());
        Assert.Equal(Hex("F5 FA 02 03 00 00 FE 0C"), Dp5Requests.Spectrum(withStatus: true, clear: false).Encode());
        Assert.Equal(Hex("F5 FA 02 04 00 00 FE 0B"), Dp5Requests.Spectrum(withStatus: true, clear: true).Encode());
        Assert.Equal(Hex("F5 FA F0 01 00 00 FD 20"), Dp5Requests.ClearSpectrum().Encode());
        Assert.Equal(Hex("F5 FA F0 02 00 00 FD 1F"), Dp5Requests.EnableMca().Encode());
        Assert.Equal(Hex("F5 FA F0 03 00 00 FD 1E"), Dp5Requests.DisableMca().Encode());
    }

    [Fact]
    public void TextConfiguration_GuideVectorMcac1024_MatchesBytes()
    {
        // Reference note §1.2: text config "MCAC=1024;" saved form (20/02).
        var expected = Hex("F5 FA 20 02 00 0A 4D 43 41 43 3D 31 30 32 34 3B FB 92");
        Assert.Equal(expected, Dp5Requests.TextConfiguration("MCAC=1024;", saveToFlash: true).Encode());
    }

    [Fact]
    public void ReadBack_GuideVector_MatchesBytes()
    {
        var expected = Hex("F5 FA 20 03 00 0F 4D 43 41 43 3B 47 41 49 4E 3B 54 50 45 41 3B F9 D1");
        Assert.Equal(expected, Dp5Requests.ReadBack("MCAC;GAIN;TPEA;").Encode());
    }

    [Fact]
    public void TextConfiguration_NotSavedForm_UsesPid2Four()
    {
        var packet = Dp5Requests.TextConfiguration("PRET=1.0;", saveToFlash: false);
        Assert.Equal((0x20, 0x04), (packet.Pid1, packet.Pid2));
        Assert.Equal("PRET=1.0;", Encoding.ASCII.GetString(packet.Data));
    }

    [Fact]
    public void Echo_And_RequestAck_FollowGuideLimits()
    {
        Assert.Equal((0xF1, 0x7F), (Dp5Requests.Echo([1, 2, 3]).Pid1, Dp5Requests.Echo([1, 2, 3]).Pid2));
        Assert.Equal(0x0F, Dp5Requests.RequestAck(0x0F).Pid2);

        // Guide §4.1.45: the ACK test code is 0–15 (the 0xF1 of one driver is a known error).
        Assert.Throws<ArgumentOutOfRangeException>(() => Dp5Requests.RequestAck(0x10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dp5Requests.Echo(new byte[513]));
    }

    [Fact]
    public void Checksum_WholePacketSum_IsZeroModulo65536()
    {
        var random = new Random(6);
        for (var i = 0; i < 200; i++)
        {
            var data = new byte[random.Next(0, 600)];
            random.NextBytes(data);
            var bytes = new Dp5Packet((byte)random.Next(256), (byte)random.Next(256), data).Encode();
            var sum = bytes[..^2].Sum(b => b) + ((bytes[^2] << 8) | bytes[^1]);
            Assert.Equal(0, sum & 0xFFFF);
        }
    }

    internal static byte[] Hex(string text) => Convert.FromHexString(text.Replace(" ", string.Empty, StringComparison.Ordinal));
}

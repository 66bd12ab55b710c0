using XrfEdge.Devices.Amptek;

namespace XrfEdge.Devices.Tests.Amptek;

public sealed class Dp5StatusTests
{
    /// <summary>A status built byte by byte from the field table of DP5 Programmer's Guide rev A7 §4.2.1.</summary>
    private static byte[] HandMadeStatus()
    {
        var d = new byte[64];
        d[0] = 0x10; d[1] = 0x27;                    // fast count 10000
        d[4] = 0x40; d[5] = 0x1F;                    // slow count 8000
        d[8] = 0x05;                                 // G.P. counter 5
        d[12] = 42;                                  // 42 ms
        d[13] = 0x2C; d[14] = 0x01;                  // 300 × 100 ms = 30 s → accumulation 30.042 s
        d[20] = 0x50; d[21] = 0x7B; d[22] = 0x00;    // real time 31568 ms
        d[24] = 0x68;                                // firmware 6.8
        d[25] = 0x6B;                                // FPGA 6.11
        d[26] = 0x6A; d[27] = 0x0A;                  // serial 2666 (the guide's .mca example)
        d[30] = 0xFF; d[31] = 0x7C;                  // HV 0xFF7C big-endian = −132 half-volts → −66.0 V
        d[32] = 0x08; d[33] = 0xDA;                  // 0x8DA = 2266 → 226.6 K
        d[34] = 0xDE;                                // −34 °C as int8
        d[35] = 0x20 | 0x02 | 0x08;                  // MCA enabled, configured, gate inactive
        d[36] = 0x80 | 0x02 | 0x01;                  // offset searching, 80 MHz, CLCK auto
        d[37] = 0x03;                                // build 3
        d[38] = 0x80;                                // PC5 detected
        d[39] = 1;                                   // PX5
        return d;
    }

    [Fact]
    public void Decode_HandMadeBytes_EveryFieldMatchesTheGuideTable()
    {
        var s = Dp5Status.Decode(HandMadeStatus());
        Assert.Equal(10000u, s.FastCount);
        Assert.Equal(8000u, s.SlowCount);
        Assert.Equal(5u, s.GeneralPurposeCount);
        Assert.Equal(TimeSpan.FromMilliseconds(30_042), s.AccumulationTime);
        Assert.Equal(TimeSpan.FromMilliseconds(31_568), s.RealTime);
        Assert.Equal(new Version(6, 8, 3), s.FirmwareVersion);
        Assert.Equal(new Version(6, 11), s.FpgaVersion);
        Assert.Equal(2666u, s.SerialNumber);
        Assert.Equal(-66.0, s.HighVoltageVolts);
        Assert.Equal(226.6, s.DetectorTemperatureKelvin, 9);
        Assert.Equal(-34, s.BoardTemperatureCelsius);
        Assert.True(s.McaEnabled);
        Assert.True(s.Configured);
        Assert.True(s.GateInactive);
        Assert.False(s.PresetRealTimeReached);
        Assert.False(s.PresetCountReached);
        Assert.True(s.AutoInputOffsetSearching);
        Assert.True(s.Clock80MHz);
        Assert.True(s.AutoClock);
        Assert.Equal(0x80, s.PowerBoardFlags);
        Assert.Equal(Dp5DeviceType.Px5, s.DeviceType);

        // 1 − 8000/10000 (ckoern AmptekStatus.cpp DeadTime approximation).
        Assert.Equal(0.2, s.DeadTimeFraction!.Value, 9);
    }

    [Fact]
    public void Decode_SerialByte29AtLeast128_MeansNoSerialNumber()
    {
        var d = HandMadeStatus();
        d[29] = 0x80;
        Assert.Null(Dp5Status.Decode(d).SerialNumber);
    }

    [Fact]
    public void EncodeDecode_RoundTrip_PreservesFields()
    {
        var original = Dp5Status.Decode(HandMadeStatus());
        var again = Dp5Status.Decode(original.Encode());
        Assert.Equal(original with { FirmwareVersion = again.FirmwareVersion, FpgaVersion = again.FpgaVersion }, again);
        Assert.Equal(original.FirmwareVersion, again.FirmwareVersion);
        Assert.Equal(HandMadeStatus()[..40], original.Encode()[..40]);
    }

    [Fact]
    public void Decode_WrongLength_ThrowsNamingTheLength()
    {
        var e = Assert.Throws<ArgumentException>(() => Dp5Status.Decode(new byte[63]));
        Assert.Contains("63", e.Message, StringComparison.Ordinal);
    }
}

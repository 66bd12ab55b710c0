using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Amptek;

/// <summary>
/// Which time a DP5-family spectrum is normalised by. The MCA8000D reports a true live time in status bytes 16–19 (ms,
/// u32 LE) from firmware 6.07 (Amptek SDK DP5Status.cpp: <c>DEVICE_ID == dppMCA8000D &amp;&amp; Firmware &gt;= 0x67</c>;
/// reference note mca-and-files.md §1.6); the DP5, PX5 and X-123 report none, and the SDK writes their accumulation time
/// as LIVE_TIME. Review 2026-11-24: the session used the accumulation time for every device, so an MCA8000D's count
/// rates were divided by a time that includes its dead time.
/// </summary>
public sealed class Dp5LiveTimeTests
{
    /// <summary>
    /// Status bytes: accumulation time 10.000 s (b13–15 = 100 × 100 ms), live time 8000 ms in b16–19 (20 % dead time at
    /// the rate an MCA8000D sees with a shaping amplifier), real time 10.000 s, firmware <paramref name="firmware"/>, device <paramref name="deviceId"/>.
    /// </summary>
    private static Dp5Status Status(byte deviceId, byte firmware)
    {
        var d = new byte[Dp5Status.Length];
        d[13] = 100;                                 // accumulation 100 × 100 ms = 10 s
        d[16] = 0x40; d[17] = 0x1F;                  // live time 0x1F40 = 8000 ms
        d[20] = 0x10; d[21] = 0x27;                  // real time 0x2710 = 10000 ms
        d[24] = firmware;
        d[39] = deviceId;
        return Dp5Status.Decode(d);
    }

    [Theory]
    [InlineData(3, 0x67, 8000)]  // MCA8000D, FW 6.07: the device's live time
    [InlineData(3, 0x68, 8000)]  // MCA8000D, FW 6.08
    [InlineData(3, 0x66, 10000)] // MCA8000D before 6.07: no live time (the SDK reads 0), accumulation time as before
    [InlineData(0, 0x68, 10000)] // DP5: bytes 16–19 are not live time ("TBD on other devices"); accumulation time
    [InlineData(1, 0x68, 10000)] // PX5: the same
    public async Task ToRawSpectrum_DeviceAndFirmware_LiveTimeAsTheAmptekSdkReadsIt(byte deviceId, byte firmware, int expectedMilliseconds)
    {
        await using var session = new Dp5Session("/dev/ttyUSB0", _ => throw new InvalidOperationException("no link needed"), TestProfiles.Fast(), TimeProvider.System);
        var spectrum = new Dp5Spectrum(new int[1024], Status(deviceId, firmware));

        var raw = session.ToRawSpectrum(spectrum, "m1");

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), raw.LiveTime);
        Assert.Equal(TimeSpan.FromMilliseconds(10_000), raw.RealTime);
    }
}

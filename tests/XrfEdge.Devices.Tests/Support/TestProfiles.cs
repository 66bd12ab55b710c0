using XrfEdge.Devices.Acquisition;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Tests.Support;

internal static class TestProfiles
{
    /// <summary>
    /// A fast profile for link tests: 1024 channels, 0.2 s preset, 20 ms polls, 250 ms reply time-out
    /// (pty and memory links answer in well under 10 ms), 4 attempts, reconnect every 50 ms.
    /// Calibration 0.0293 keV/channel, offset −0.02 keV: 30 keV over 1024 channels.
    /// Tests that assert no retry pass a longer <paramref name="replyTimeout"/>: on a loaded 2-core CI machine a reply
    /// has been seen to take over 250 ms, and that test is about the exchange, not the time-out.
    /// Fault tests that need more than four attempts to ride out a cascade pass <paramref name="maxAttempts"/>.
    /// </summary>
    public static AcquisitionProfile Fast(int channels = 1024, TimeSpan? replyTimeout = null, int maxAttempts = 4) => new()
    {
        Name = "test-fast",
        Configuration = [new("MCAC", channels.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("GAIN", "20.0"), new("TPEA", "1.0US")],
        Calibration = new EnergyCalibration(-0.02, 30.0 / channels),
        PresetTime = TimeSpan.FromSeconds(0.2),
        PollInterval = TimeSpan.FromMilliseconds(20),
        ReplyTimeout = replyTimeout ?? TimeSpan.FromMilliseconds(250),
        MaxAttempts = maxAttempts,
        ReconnectAttempts = 40,
        ReconnectDelay = TimeSpan.FromMilliseconds(50),
    };
}

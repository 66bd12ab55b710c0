using System.Globalization;

namespace XrfEdge.Devices.Acquisition;

/// <summary>
/// The MCA clipped at least one channel at the largest count it can hold (docs/spi-mca-protocol.md §5: flags bit 2, or
/// a channel at 2^(8·width) − 1 whatever the flag says):
/// the tops of the strongest peaks are cut off, so their areas, ratios and any identification built on them are wrong.
/// The spectrum is refused rather than passed on. An <see cref="IOException"/> like the other device errors: the
/// measurement fails, the service stays up. Measuring again with the same preset and tube current would clip again,
/// so the source does not retry it.
/// </summary>
public sealed class SpectrumSaturatedException : IOException
{
    /// <summary>Creates the exception with a message naming the device, the clipped channels and the remedy.</summary>
    /// <param name="deviceKind">What sent the spectrum, for the message ("SPI MCA").</param>
    /// <param name="deviceName">Device path or name (e.g. /dev/spidev0.0).</param>
    /// <param name="saturatedChannelCount">Channels at <paramref name="maximumCount"/>, 0 up to the channel count (0 when only the flag said so).</param>
    /// <param name="maximumCount">The largest count a channel holds, 2^(8·width) − 1 (65535, 16777215 or 4294967295).</param>
    /// <param name="liveTime">Live time of the clipped spectrum.</param>
    /// <param name="firstSaturatedChannel">The lowest channel at <paramref name="maximumCount"/> (0-based), or null when only the flag said so.</param>
    /// <param name="flagSet">Whether the MCA's own saturated flag was set; false when the counts alone showed the clipping.</param>
    public SpectrumSaturatedException(string deviceKind, string deviceName, int saturatedChannelCount, long maximumCount, TimeSpan liveTime, int? firstSaturatedChannel = null, bool flagSet = true)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"{deviceKind} on {deviceName} saturated: {saturatedChannelCount} channel(s) at the maximum count {maximumCount}{(firstSaturatedChannel is { } first ? $" (first: channel {first})" : string.Empty)} after {liveTime.TotalSeconds:0.###} s live{(flagSet ? string.Empty : ", seen in the counts with the MCA's saturated flag not set")}; the clipped spectrum is discarded; use a shorter preset or a lower tube current"))
    {
        DeviceName = deviceName;
        SaturatedChannelCount = saturatedChannelCount;
        MaximumCount = maximumCount;
        FirstSaturatedChannel = firstSaturatedChannel;
    }

    /// <summary>Creates the exception with a message (standard constructor).</summary>
    public SpectrumSaturatedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message (standard constructor).</summary>
    public SpectrumSaturatedException()
        : base("the MCA saturated a channel; use a shorter preset or a lower tube current")
    {
    }

    /// <summary>Creates the exception with a message and cause (standard constructor).</summary>
    public SpectrumSaturatedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// Throws when any channel of <paramref name="counts"/> is at <paramref name="maximumCount"/>, or when the device's own
    /// saturated flag (<paramref name="flagSet"/>) says so. A channel at the maximum is refused whatever the flag: a counter
    /// that saturates stops there, and one that wraps has lost counts by the time it reads that value.
    /// </summary>
    /// <param name="deviceKind">What sent the spectrum ("SPI MCA", "DP5").</param>
    /// <param name="deviceName">Device path or name.</param>
    /// <param name="counts">Counts per channel, channel 0 first.</param>
    /// <param name="maximumCount">The largest count a channel holds: 2^(8·width) − 1.</param>
    /// <param name="liveTime">Live time of the spectrum, for the message.</param>
    /// <param name="flagSet">Whether the device reported saturation itself (SPI flags bit 2; the DP5 has no such flag).</param>
    /// <exception cref="SpectrumSaturatedException">A channel at the maximum, or the flag set.</exception>
    public static void ThrowIfSaturated(string deviceKind, string deviceName, ReadOnlySpan<long> counts, long maximumCount, TimeSpan liveTime, bool flagSet)
    {
        var clipped = 0;
        var firstClipped = -1;
        for (var channel = 0; channel < counts.Length; channel++)
        {
            if (counts[channel] >= maximumCount)
            {
                clipped++;
                firstClipped = firstClipped < 0 ? channel : firstClipped;
            }
        }

        if (flagSet || clipped > 0)
        {
            throw new SpectrumSaturatedException(deviceKind, deviceName, clipped, maximumCount, liveTime, firstClipped >= 0 ? firstClipped : null, flagSet || clipped == 0);
        }
    }

    /// <summary>Device path or name, when known.</summary>
    public string? DeviceName { get; }

    /// <summary>Channels clipped at <see cref="MaximumCount"/>, or 0 when unknown.</summary>
    public int SaturatedChannelCount { get; }

    /// <summary>The largest count a channel holds (2^(8·width) − 1), or 0 when unknown.</summary>
    public long MaximumCount { get; }

    /// <summary>The lowest channel (0-based) at <see cref="MaximumCount"/>, or null when unknown or only the MCA's flag said so.</summary>
    public int? FirstSaturatedChannel { get; }
}

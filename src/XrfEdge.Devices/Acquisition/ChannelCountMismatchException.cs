using System.Globalization;

namespace XrfEdge.Devices.Acquisition;

/// <summary>
/// The MCA sent a spectrum with another number of channels than the profile's calibration is for
/// (<see cref="AcquisitionProfile.ChannelCount"/>, from <c>Configuration.MCAC</c>). The calibration's keV per channel
/// would put every energy off by the ratio of the two counts (2048-channel gain on 4096 channels halves them), so the
/// spectrum is refused rather than passed on. An <see cref="IOException"/> like the other device errors: the measurement
/// fails, the service stays up. Retrying or reopening the link does not help; the device or the profile must change.
/// </summary>
public sealed class ChannelCountMismatchException : IOException
{
    /// <summary>Creates the exception with a message naming the device, both counts and the remedy.</summary>
    /// <param name="deviceKind">What sent the spectrum, for the message ("DP5", "SPI MCA").</param>
    /// <param name="deviceName">Device path or name (e.g. /dev/ttyACM0).</param>
    /// <param name="receivedChannelCount">Channels in the spectrum the device sent.</param>
    /// <param name="profileName">The acquisition profile's name.</param>
    /// <param name="profileChannelCount">Channels the profile's calibration is for (its MCAC).</param>
    public ChannelCountMismatchException(string deviceKind, string deviceName, int receivedChannelCount, string profileName, int profileChannelCount)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"{deviceKind} on {deviceName} sent a {receivedChannelCount}-channel spectrum but profile '{profileName}' is calibrated for {profileChannelCount} channels (Acquisition:Configuration:MCAC); set the device's channel count to {profileChannelCount}, or the profile's MCAC and Calibration to the device's"))
    {
        DeviceName = deviceName;
        ReceivedChannelCount = receivedChannelCount;
        ProfileName = profileName;
        ProfileChannelCount = profileChannelCount;
    }

    /// <summary>Creates the exception with a message (standard constructor).</summary>
    public ChannelCountMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message (standard constructor).</summary>
    public ChannelCountMismatchException()
        : base("the MCA's channel count differs from the one the profile's calibration is for")
    {
    }

    /// <summary>Creates the exception with a message and cause (standard constructor).</summary>
    public ChannelCountMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Device path or name, when known.</summary>
    public string? DeviceName { get; }

    /// <summary>Channels in the spectrum the device sent (256–16384), or 0 when unknown.</summary>
    public int ReceivedChannelCount { get; }

    /// <summary>The profile's name, when known.</summary>
    public string? ProfileName { get; }

    /// <summary>Channels the profile's calibration is for (256–8192), or 0 when unknown.</summary>
    public int ProfileChannelCount { get; }

    /// <summary>Throws when <paramref name="receivedChannelCount"/> is not the profile's channel count.</summary>
    /// <exception cref="ChannelCountMismatchException">The counts differ.</exception>
    public static void ThrowIfMismatched(string deviceKind, string deviceName, int receivedChannelCount, AcquisitionProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (receivedChannelCount != profile.ChannelCount)
        {
            throw new ChannelCountMismatchException(deviceKind, deviceName, receivedChannelCount, profile.Name, profile.ChannelCount);
        }
    }
}

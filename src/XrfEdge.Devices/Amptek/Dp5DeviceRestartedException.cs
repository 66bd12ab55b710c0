namespace XrfEdge.Devices.Amptek;

/// <summary>
/// The DP5 restarted (power cycle, brown-out, battery swap) while a measurement was running: a status polled during it,
/// or the one that came with the spectrum, had b36 D5 "first status since reboot" set (FW6.05+, guide §4.2.1). The
/// restart cleared the spectrum and put the RAM configuration back to the flash defaults, so what the device holds now
/// is neither the whole preset nor taken with the profile's gain and MCAC; the measurement is discarded. A session that
/// applied a profile has marked it for re-application, which happens at the start of the next measurement. An
/// <see cref="IOException"/> like the other device errors: the measurement fails, the service stays up.
/// </summary>
public sealed class Dp5DeviceRestartedException : IOException
{
    /// <summary>Creates the exception with a message naming the device and what happens next.</summary>
    /// <param name="deviceKind">What restarted, for the message ("DP5", "X-123").</param>
    /// <param name="deviceName">Device path or name (e.g. /dev/ttyACM0).</param>
    /// <param name="profileWillBeReapplied">Whether the session applied a profile and so will re-apply it (a session that never did leaves the configuration alone).</param>
    public Dp5DeviceRestartedException(string deviceKind, string deviceName, bool profileWillBeReapplied)
        : base($"{deviceKind} on {deviceName} restarted during the measurement (status: first since reboot), which cleared its spectrum and configuration; the measurement is discarded{(profileWillBeReapplied ? " and the profile will be re-applied before the next one" : string.Empty)}")
    {
        DeviceName = deviceName;
        ProfileWillBeReapplied = profileWillBeReapplied;
    }

    /// <summary>Creates the exception with a message (standard constructor).</summary>
    public Dp5DeviceRestartedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message (standard constructor).</summary>
    public Dp5DeviceRestartedException()
        : base("the DP5 restarted during the measurement; the profile will be re-applied before the next one")
    {
    }

    /// <summary>Creates the exception with a message and cause (standard constructor).</summary>
    public Dp5DeviceRestartedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Device path or name, when known.</summary>
    public string? DeviceName { get; }

    /// <summary>Whether the session will re-apply its profile before the next measurement.</summary>
    public bool ProfileWillBeReapplied { get; }
}

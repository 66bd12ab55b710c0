namespace XrfEdge.Devices.Amptek;

/// <summary>The DP5 answered with an error ACK, or an unexpected packet, for a request.</summary>
public sealed class Dp5ProtocolException : IOException
{
    /// <summary>Creates the exception for an error ACK.</summary>
    /// <param name="code">The ACK's PID2.</param>
    /// <param name="echoedCommand">The command the device echoed in the ACK's data, if any.</param>
    /// <param name="deviceName">Device path or name (e.g. /dev/ttyUSB0), for the message.</param>
    /// <param name="request">The request as <see cref="Dp5Requests.Describe"/> names it, for the message.</param>
    public Dp5ProtocolException(Dp5AckCode code, string? echoedCommand, string deviceName, string request)
        : base(Describe(code, echoedCommand, deviceName, request))
    {
        AckCode = code;
        EchoedCommand = echoedCommand;
        DeviceName = deviceName;
    }

    /// <summary>Creates the exception for an error ACK, with <paramref name="detail"/> (what the session did about it) appended.</summary>
    public Dp5ProtocolException(Dp5AckCode code, string? echoedCommand, string deviceName, string request, string detail)
        : base($"{Describe(code, echoedCommand, deviceName, request)}; {detail}")
    {
        AckCode = code;
        EchoedCommand = echoedCommand;
        DeviceName = deviceName;
    }

    /// <summary>Creates the exception for a protocol violation that is not an ACK.</summary>
    public Dp5ProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message (standard constructor).</summary>
    public Dp5ProtocolException()
        : base("DP5 protocol error")
    {
    }

    /// <summary>Creates an exception with a message and cause (standard constructor).</summary>
    public Dp5ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The device's ACK code, when the error came as an ACK.</summary>
    public Dp5AckCode? AckCode { get; }

    /// <summary>The command the device echoed back (bad parameter, unrecognised command, PC5 not present).</summary>
    public string? EchoedCommand { get; }

    /// <summary>Device path or name, when the error came as an ACK.</summary>
    public string? DeviceName { get; }

    /// <summary>Whether repeating the same request may succeed (transmission and busy errors), per guide §4.3.</summary>
    public static bool IsTransient(Dp5AckCode code) => code is Dp5AckCode.SyncError or Dp5AckCode.PidError
        or Dp5AckCode.LengthError or Dp5AckCode.ChecksumError or Dp5AckCode.Busy;

    /// <summary>
    /// A sentence for each ACK code (guide rev A7 Table 3), naming the device and the request: a bad-parameter ACK may
    /// carry no echo (reference note mca-and-files.md §1.7), and then the request's own text is all that names the command.
    /// </summary>
    public static string Describe(Dp5AckCode code, string? echoedCommand, string deviceName, string request)
    {
        var what = code switch
        {
            Dp5AckCode.SyncError => "sync error: the device did not see F5 FA at the start of the request",
            Dp5AckCode.PidError => "PID error: the device does not know this request (firmware too old?)",
            Dp5AckCode.LengthError => "length error: LEN does not fit the request",
            Dp5AckCode.ChecksumError => "checksum error: the request was corrupted on the line",
            Dp5AckCode.BadParameter => "bad parameter: a value is unrecognised or out of range",
            Dp5AckCode.BadHexRecord => "bad hex record",
            Dp5AckCode.UnrecognisedCommand => "unrecognised ASCII command (not supported by this device type)",
            Dp5AckCode.FpgaError => "FPGA error: the FPGA is not initialised",
            Dp5AckCode.Cp2201NotFound => "Ethernet controller not found",
            Dp5AckCode.ScopeDataNotAvailable => "scope data not available",
            Dp5AckCode.Pc5NotPresent => "PC5 not present: this unit has no HV/TEC supply for the command",
            Dp5AckCode.Busy => "busy: another interface is in use or sequential buffering is running",
            Dp5AckCode.I2cError => "I2C error",
            Dp5AckCode.FeatureNotSupported => "feature not supported by this FPGA version",
            Dp5AckCode.CalibrationDataNotPresent => "calibration data not present",
            _ => $"ACK code 0x{(byte)code:X2}",
        };
        return string.IsNullOrEmpty(echoedCommand)
            ? $"DP5 on {deviceName} rejected {request}: {what}"
            : $"DP5 on {deviceName} rejected {request}: {what} (offending command: {echoedCommand})";
    }
}

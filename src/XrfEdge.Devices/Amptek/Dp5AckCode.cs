namespace XrfEdge.Devices.Amptek;

/// <summary>PID2 of an ACK packet (PID1 = 0xFF), DP5 Programmer's Guide rev A7 Table 3 / §4.3 and rev B3.</summary>
public enum Dp5AckCode : byte
{
    /// <summary>Request received, understood and executed.</summary>
    Ok = 0x00,

    /// <summary>Sync error (USB/Ethernet only).</summary>
    SyncError = 0x01,

    /// <summary>Unknown PID1/PID2 combination.</summary>
    PidError = 0x02,

    /// <summary>LEN inconsistent with the PIDs.</summary>
    LengthError = 0x03,

    /// <summary>The device computed a different checksum.</summary>
    ChecksumError = 0x04,

    /// <summary>Value unrecognised or out of range; data echoes the offending command.</summary>
    BadParameter = 0x05,

    /// <summary>Bad hex record (firmware upload).</summary>
    BadHexRecord = 0x06,

    /// <summary>Unrecognised ASCII command; data echoes it.</summary>
    UnrecognisedCommand = 0x07,

    /// <summary>FPGA not initialised (returned to spectrum requests).</summary>
    FpgaError = 0x08,

    /// <summary>Ethernet controller (CP2201) not found.</summary>
    Cp2201NotFound = 0x09,

    /// <summary>Scope data not available.</summary>
    ScopeDataNotAvailable = 0x0A,

    /// <summary>PC5 (HV/TEC supply) not present, e.g. HVSE on a DP5 without one; data echoes the command.</summary>
    Pc5NotPresent = 0x0B,

    /// <summary>OK, and another host asks to share the interface (Ethernet).</summary>
    OkSharingRequest = 0x0C,

    /// <summary>Busy: another interface is in use, or sequential buffering is running.</summary>
    Busy = 0x0D,

    /// <summary>I2C error.</summary>
    I2cError = 0x0E,

    /// <summary>OK plus FPGA upload address.</summary>
    OkFpgaUploadAddress = 0x0F,

    /// <summary>Feature not supported by this FPGA version.</summary>
    FeatureNotSupported = 0x10,

    /// <summary>Calibration data not present.</summary>
    CalibrationDataNotPresent = 0x11,
}

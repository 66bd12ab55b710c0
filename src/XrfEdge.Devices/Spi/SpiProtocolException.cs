namespace XrfEdge.Devices.Spi;

/// <summary>The SPI MCA answered with a NACK that retrying cannot fix, kept failing its CRCs, or kept echoing the wrong opcode.</summary>
public sealed class SpiProtocolException : IOException
{
    /// <summary>Creates the exception for a NACK.</summary>
    public SpiProtocolException(SpiNackCode code, string message)
        : base(message) => NackCode = code;

    /// <summary>
    /// Creates the exception for an ACK whose opcode echo (START, STOP, CLEAR; docs/spi-mca-protocol.md §3) was not the
    /// command's opcode on every attempt.
    /// </summary>
    public SpiProtocolException(string message, SpiOpcode expectedOpcode, byte receivedOpcode)
        : base(message)
    {
        ExpectedOpcode = expectedOpcode;
        ReceivedOpcode = receivedOpcode;
    }

    /// <summary>Creates the exception with a message.</summary>
    public SpiProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Standard constructor.</summary>
    public SpiProtocolException()
        : base("SPI MCA protocol error")
    {
    }

    /// <summary>Standard constructor.</summary>
    public SpiProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The device's NACK code, when there was one.</summary>
    public SpiNackCode? NackCode { get; }

    /// <summary>The opcode the ACK should have echoed, when the error is a wrong echo.</summary>
    public SpiOpcode? ExpectedOpcode { get; }

    /// <summary>The opcode byte the ACK echoed instead (0x00–0xFF; not necessarily a known opcode), when the error is a wrong echo.</summary>
    public byte? ReceivedOpcode { get; }
}

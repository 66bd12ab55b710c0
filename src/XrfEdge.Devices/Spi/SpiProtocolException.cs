namespace XrfEdge.Devices.Spi;

/// <summary>The SPI MCA answered with a NACK that retrying cannot fix, or kept failing its CRCs.</summary>
public sealed class SpiProtocolException : IOException
{
    /// <summary>Creates the exception for a NACK.</summary>
    public SpiProtocolException(SpiNackCode code, string message)
        : base(message) => NackCode = code;

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
}

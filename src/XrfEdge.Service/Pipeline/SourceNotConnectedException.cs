namespace XrfEdge.Service.Pipeline;

/// <summary>
/// <see cref="ISpectrumSource.OpenAsync"/> could not reach a device that may still come (a DP5 switched on, or its
/// USB-serial adapter plugged in, after the service started). Start-up goes on: the state is Fault with this message as
/// <c>last_error</c>, and each measurement tries to connect again. Any other exception from
/// <see cref="ISpectrumSource.OpenAsync"/> still fails start-up.
/// </summary>
internal sealed class SourceNotConnectedException : IOException
{
    /// <summary>Creates the exception with a message naming the device, and the error that stopped the connection.</summary>
    public SourceNotConnectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a message (standard constructor).</summary>
    public SourceNotConnectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message (standard constructor).</summary>
    public SourceNotConnectedException()
        : base("the spectrum source could not be reached at start-up")
    {
    }
}

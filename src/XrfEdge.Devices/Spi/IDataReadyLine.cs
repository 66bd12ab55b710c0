namespace XrfEdge.Devices.Spi;

/// <summary>
/// An optional data-ready input from the SPI MCA (a GPIO line raised when a response is ready).
/// The GPIO chardev implementation belongs to XrfEdge.Service; without a line the client polls.
/// </summary>
public interface IDataReadyLine
{
    /// <summary>Waits until the line is asserted; false when <paramref name="timeout"/> passed first.</summary>
    Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

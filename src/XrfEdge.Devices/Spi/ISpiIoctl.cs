namespace XrfEdge.Devices.Spi;

/// <summary>
/// The seam under <see cref="SpiDevice"/>: exactly the <c>ioctl(2)</c> calls spidev accepts
/// (SPI_IOC_MESSAGE(n), SPI_IOC_WR_MODE, SPI_IOC_WR_BITS_PER_WORD, SPI_IOC_WR_MAX_SPEED_HZ …), with the
/// argument as a raw pointer. <see cref="SpidevIoctl"/> passes them to the kernel; a simulated device
/// (<see cref="SimulatedSpiMca"/>) interprets the same bytes, so everything above runs unchanged in tests.
/// </summary>
public interface ISpiIoctl : IDisposable
{
    /// <summary>Issues one ioctl; returns its non-negative result.</summary>
    /// <exception cref="IOException">The call failed; the message carries the errno text (e.g. EMSGSIZE above spidev's bufsiz).</exception>
    int Ioctl(ulong request, nint argument);
}

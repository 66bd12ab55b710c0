using XrfEdge.Devices.Gpio;
using XrfEdge.Devices.Spi;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>
/// The simulated SPI MCA below the spidev ioctl seam, with its data-ready output wired to a line of a
/// <see cref="FakeGpioChip"/> (below the GPIO ioctl seam) the way docs/spi-mca-protocol.md §1 says the real MCA drives
/// it: lowered when a transfer starts, raised when a response is ready.
/// </summary>
internal sealed class SimulatedSpiWithDataReady(SimulatedSpiMca device, FakeGpioChip chip, int dataReadyLine) : ISpiIoctl
{
    // Any duration ≥ 0 works: the data-ready line is requested without debounce.
    private static readonly TimeSpan Held = TimeSpan.FromMilliseconds(1);

    /// <summary>SPI transfers seen (commands and response reads).</summary>
    public int Transfers { get; private set; }

    /// <summary>Times the data-ready line was raised.</summary>
    public int ReadyRaised { get; private set; }

    /// <summary>True once the service closed the node.</summary>
    public bool Disposed { get; private set; }

    public int Ioctl(ulong request, nint argument)
    {
        if (SpiIoctlNumbers.TransfersIn(request) == 0)
        {
            return device.Ioctl(request, argument);
        }

        Transfers++;
        chip.SetInputLevel(dataReadyLine, high: false, Held);
        int result = device.Ioctl(request, argument);
        if (device.WaitAsync(TimeSpan.Zero, CancellationToken.None).Result)
        {
            chip.SetInputLevel(dataReadyLine, high: true, Held);
            ReadyRaised++;
        }

        return result;
    }

    public void Dispose() => Disposed = true;
}

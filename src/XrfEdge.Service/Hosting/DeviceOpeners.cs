using XrfEdge.Devices.Gpio;
using XrfEdge.Devices.Spi;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// How the service opens its device nodes: a spidev node and a GPIO chip. The product uses <see cref="Linux"/>
/// (the kernel's ioctls); tests hand in a simulated SPI MCA and a <see cref="FakeGpioChip"/> that sit below the very
/// same ioctl seams, so everything above — <see cref="SpiDevice"/>, <see cref="SpiMcaClient"/>,
/// <see cref="GpioDataReadyLine"/>, the GPIO I/O — runs unchanged. Not reachable from a profile.
/// </summary>
/// <param name="OpenSpi">Opens a spidev node by path (<c>/dev/spidev0.0</c>); throws with the path and errno text when it cannot.</param>
/// <param name="OpenGpioChip">Opens a GPIO chip by path (<c>/dev/gpiochip0</c>); throws with the path and errno text when it cannot.</param>
internal sealed record DeviceOpeners(Func<string, ISpiIoctl> OpenSpi, Func<string, GpioChip> OpenGpioChip)
{
    /// <summary>The real device nodes.</summary>
    public static DeviceOpeners Linux { get; } = new(path => new SpidevIoctl(path), GpioChip.Open);
}

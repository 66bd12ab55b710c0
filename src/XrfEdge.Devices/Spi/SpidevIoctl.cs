using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Spi;

/// <summary>A Linux spidev node (<c>/dev/spidevB.C</c>) whose ioctls go to the kernel.</summary>
public sealed class SpidevIoctl : ISpiIoctl
{
    private readonly FileDescriptorHandle _handle;

    /// <summary>Opens <paramref name="path"/> read-write.</summary>
    /// <exception cref="UnauthorizedAccessException">No permission (group <c>spi</c> on Raspberry Pi OS, or a udev rule).</exception>
    /// <exception cref="FileNotFoundException">No such node: enable SPI (raspi-config / dtparam=spi=on, jetson-io on Jetson).</exception>
    public SpidevIoctl(string path)
    {
        Path = path;
        var fd = LibC.Open(path, LibC.O_RDWR | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            var errno = LibC.LastError;
            throw errno switch
            {
                LibC.EACCES or LibC.EPERM => new UnauthorizedAccessException($"{path}: {LibC.Describe(errno)}. Add the user to group `spi` (Raspberry Pi OS) or install a udev rule for spidev (see docs/acquisition.md)."),
                LibC.ENOENT or LibC.ENODEV or LibC.ENXIO => new FileNotFoundException($"{path}: {LibC.Describe(errno)}. Enable SPI (Raspberry Pi: dtparam=spi=on; Jetson: jetson-io) and check bus/chip-select numbers.", path),
                _ => new IOException($"{path}: open failed: {LibC.Describe(errno)}"),
            };
        }

        _handle = new FileDescriptorHandle(fd);
    }

    /// <summary>The device node.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public unsafe int Ioctl(ulong request, nint argument)
    {
        var rc = LibC.Ioctl(_handle.Fd, request, (void*)argument);
        if (rc < 0)
        {
            var errno = LibC.LastError;
            var hint = errno == LibC.EMSGSIZE ? " (message above spidev bufsiz; chunk transfers ≤ 4096 bytes or raise spidev.bufsiz)" : string.Empty;
            throw new IOException($"{Path}: ioctl 0x{request:X8} failed: {LibC.Describe(errno)}{hint}");
        }

        return rc;
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}

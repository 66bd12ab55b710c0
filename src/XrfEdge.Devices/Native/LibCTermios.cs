namespace XrfEdge.Devices.Native;

/// <summary>The kernel's termios, through libc (<see cref="LibC.TcGetAttr"/>, <see cref="LibC.TcSetAttr"/>).</summary>
internal sealed class LibCTermios : ITermios
{
    private LibCTermios()
    {
    }

    /// <summary>The one instance.</summary>
    public static LibCTermios Instance { get; } = new();

    /// <inheritdoc />
    public unsafe int TcGetAttr(int fd, LibC.Termios* termios) => LibC.TcGetAttr(fd, termios);

    /// <inheritdoc />
    public unsafe int TcSetAttr(int fd, int optionalActions, LibC.Termios* termios) => LibC.TcSetAttr(fd, optionalActions, termios);
}

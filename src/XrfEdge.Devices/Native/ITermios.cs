namespace XrfEdge.Devices.Native;

/// <summary>
/// The two termios calls <see cref="SerialPort"/> makes on an open descriptor, <c>tcgetattr(3)</c> and <c>tcsetattr(3)</c>,
/// with their C signatures and return conventions (0 on success, −1 with errno set). <see cref="LibCTermios"/> calls libc;
/// a test can put a driver that silently ignores a setting below the port.
/// </summary>
internal interface ITermios
{
    /// <summary><c>tcgetattr(fd, termios)</c>.</summary>
    unsafe int TcGetAttr(int fd, LibC.Termios* termios);

    /// <summary><c>tcsetattr(fd, optionalActions, termios)</c>.</summary>
    unsafe int TcSetAttr(int fd, int optionalActions, LibC.Termios* termios);
}

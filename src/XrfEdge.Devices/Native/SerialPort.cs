using System.Globalization;

namespace XrfEdge.Devices.Native;

/// <summary>
/// A Linux serial port opened raw through termios, shaped like <c>System.IO.Ports.SerialPort</c>
/// (which is not available here) so that swapping to it is a one-file change: <see cref="PortName"/>,
/// <see cref="BaudRate"/>, <see cref="ReadTimeout"/>, <see cref="Open"/>, <see cref="Read(byte[], int, int)"/>,
/// <see cref="Write(byte[], int, int)"/>, <see cref="BaseStream"/>, <see cref="DiscardInBuffer"/>.
/// The line is always 8N1 with no hardware or software flow control, as the Amptek DP5 requires
/// (DP5 Programmer's Guide rev A7 §3.3); the binary protocol carries 0x11/0x13, so XON/XOFF must stay off.
/// Works with /dev/ttyUSB*, ttyACM*, ttyAMA*, ttyS*, ttyTHS* and pseudo-terminals.
/// </summary>
public sealed class SerialPort : IDisposable
{
    /// <summary>Value of <see cref="ReadTimeout"/>/<see cref="WriteTimeout"/> meaning "wait forever" (−1, as in System.IO.Ports).</summary>
    public const int InfiniteTimeout = -1;

    private readonly ITermios _termios;
    private FileDescriptorHandle? _handle;
    private FileDescriptorStream? _stream;

    /// <summary>Creates a closed port.</summary>
    /// <param name="portName">Device path, e.g. <c>/dev/ttyUSB0</c> or a pty/symlink.</param>
    /// <param name="baudRate">115200 (DP5 default), 57600 or 19200 — the rates the DP5 supports (guide §4.1.36).</param>
    public SerialPort(string portName, int baudRate = 115200)
        : this(portName, baudRate, LibCTermios.Instance)
    {
    }

    /// <summary>Creates a closed port whose termios calls go to <paramref name="termios"/> (tests: a driver that ignores a setting).</summary>
    internal SerialPort(string portName, int baudRate, ITermios termios)
    {
        ArgumentException.ThrowIfNullOrEmpty(portName);
        PortName = portName;
        BaudRate = baudRate;
        _termios = termios;
        _ = SpeedConstant(baudRate);
    }

    /// <summary>The device path.</summary>
    public string PortName { get; }

    /// <summary>Line rate, bit/s: 115200, 57600 or 19200.</summary>
    public int BaudRate { get; }

    /// <summary>Synchronous read time-out, ms (−1 = infinite); a read with no data in time throws <see cref="TimeoutException"/>.</summary>
    public int ReadTimeout { get; set; } = InfiniteTimeout;

    /// <summary>Synchronous write time-out, ms (−1 = infinite).</summary>
    public int WriteTimeout { get; set; } = InfiniteTimeout;

    /// <summary>Whether <see cref="Open"/> succeeded and the port is not closed.</summary>
    public bool IsOpen => _handle is { IsClosed: false };

    /// <summary>The open port as a stream; async reads honour cancellation within about 20 ms. Disposing it closes the port.</summary>
    public Stream BaseStream => _stream ?? throw new InvalidOperationException($"{PortName} is not open");

    /// <summary>Bytes received and not yet read.</summary>
    public int BytesToRead => (_stream ?? throw new InvalidOperationException($"{PortName} is not open")).BytesAvailable;

    /// <summary>
    /// Opens the device with <c>O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC</c>, takes exclusive access
    /// (<c>flock(LOCK_EX|LOCK_NB)</c>, which binds root too, and <c>TIOCEXCL</c>), sets raw 8N1 without flow control at
    /// <see cref="BaudRate"/>, reads the settings back, and flushes both queues.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">EACCES/EPERM: the user lacks permission (group <c>dialout</c> or a udev rule).</exception>
    /// <exception cref="FileNotFoundException">ENOENT/ENODEV/ENXIO: no such device (not plugged in, wrong path).</exception>
    /// <exception cref="IOException">
    /// EBUSY or any other failure, with libc's message; another process holds the port's lock; or the driver did not keep a
    /// setting (naming the device and the field).
    /// </exception>
    public unsafe void Open()
    {
        if (IsOpen)
        {
            throw new InvalidOperationException($"{PortName} is already open");
        }

        var fd = LibC.Open(PortName, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw OpenError(PortName, LibC.LastError);
        }

        var handle = new FileDescriptorHandle(fd);
        try
        {
            // TIOCEXCL refuses further opens, but not to a process with CAP_SYS_ADMIN (tty_open), and operators run
            // `sudo xrfedge acquire` beside the service. flock binds root too; picocom and flock(1) honour it as well.
            if (LibC.Flock(fd, LibC.LOCK_EX | LibC.LOCK_NB) != 0 && LibC.LastError == LibC.EWOULDBLOCK)
            {
                throw new IOException($"{PortName}: another process has the port open and locked (flock): a second xrfedge, `xrfedge acquire` beside the service, or a terminal program; find it with `fuser {PortName}`.");
            }

            if (LibC.Ioctl(fd, LibC.TIOCEXCL) != 0)
            {
                var errno = LibC.LastError;
                throw new IOException($"{PortName}: cannot take exclusive access (TIOCEXCL): {LibC.Describe(errno)} — is it a serial device?");
            }

            ConfigureRaw(fd, PortName, SpeedConstant(BaudRate), _termios);
            LibC.TcFlush(fd, LibC.TCIOFLUSH);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        _handle = handle;

        // The stream owns the descriptor, as System.IO.Ports' BaseStream does: a caller that keeps only the stream
        // (Dp5Session's connect delegate) closes the port by disposing it, instead of leaving the fd and its TIOCEXCL
        // claim open until a finaliser runs. Close() disposing both is harmless: a SafeHandle closes once.
        _stream = new FileDescriptorStream(handle, PortName, ownsHandle: true) { ReadTimeout = ReadTimeout, WriteTimeout = WriteTimeout };
    }

    /// <summary>Reads up to <paramref name="count"/> bytes, at least one; throws <see cref="TimeoutException"/> after <see cref="ReadTimeout"/>.</summary>
    public int Read(byte[] buffer, int offset, int count)
    {
        var stream = (FileDescriptorStream)BaseStream;
        stream.ReadTimeout = ReadTimeout;
        return stream.Read(buffer, offset, count);
    }

    /// <summary>Writes all bytes; a request of up to 520 bytes leaves in a single <c>write(2)</c> (the DP5 drops a packet after a 100 ms gap).</summary>
    public void Write(byte[] buffer, int offset, int count)
    {
        var stream = (FileDescriptorStream)BaseStream;
        stream.WriteTimeout = WriteTimeout;
        stream.Write(buffer, offset, count);
    }

    /// <summary>Drops everything received and not yet read (<c>tcflush(TCIFLUSH)</c>).</summary>
    public void DiscardInBuffer() => Flush(LibC.TCIFLUSH);

    /// <summary>Drops everything written and not yet sent (<c>tcflush(TCOFLUSH)</c>).</summary>
    public void DiscardOutBuffer() => Flush(LibC.TCOFLUSH);

    /// <summary>Closes the port; safe to call twice.</summary>
    public void Close()
    {
        _stream?.Dispose();
        _handle?.Dispose();
        _stream = null;
        _handle = null;
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    private void Flush(int queue)
    {
        if (_handle is not { IsClosed: false } handle)
        {
            throw new InvalidOperationException($"{PortName} is not open");
        }

        if (LibC.TcFlush(handle.Fd, queue) != 0)
        {
            var errno = LibC.LastError;
            throw new IOException($"{PortName}: tcflush failed: {LibC.Describe(errno)}");
        }
    }

    /// <summary>
    /// cfmakeraw + CLOCAL|CREAD, 8N1, no RTS/CTS, no XON/XOFF, VMIN=1/VTIME=0 (we wait with poll); then reads the settings
    /// back and throws <see cref="IOException"/> naming <paramref name="name"/> and the first field the driver did not keep.
    /// </summary>
    internal static unsafe void ConfigureRaw(int fd, string name, uint speed, ITermios? termios = null)
    {
        termios ??= LibCTermios.Instance;
        LibC.Termios t;
        if (termios.TcGetAttr(fd, &t) != 0)
        {
            var errno = LibC.LastError;
            throw new IOException($"{name}: not a terminal device (tcgetattr: {LibC.Describe(errno)})");
        }

        LibC.CfMakeRaw(&t);
        t.c_cflag |= LibC.CLOCAL | LibC.CREAD;
        t.c_cflag &= ~(LibC.CSTOPB | LibC.CRTSCTS | LibC.PARENB | LibC.CSIZE);
        t.c_cflag |= LibC.CS8;
        t.c_iflag &= ~(LibC.IXON | LibC.IXOFF | LibC.IXANY);
        // VMIN=1/VTIME=0 with O_NONBLOCK: an empty queue reads as EAGAIN (then we poll). VMIN=0 would make
        // Linux n_tty return 0, indistinguishable from a hang-up.
        t.c_cc[LibC.VMIN] = 1;
        t.c_cc[LibC.VTIME] = 0;
        if (speed != 0 && (LibC.CfSetISpeed(&t, speed) != 0 || LibC.CfSetOSpeed(&t, speed) != 0))
        {
            var errno = LibC.LastError;
            throw new IOException($"{name}: cannot set the line speed: {LibC.Describe(errno)}");
        }

        if (termios.TcSetAttr(fd, LibC.TCSANOW, &t) != 0)
        {
            var errno = LibC.LastError;
            throw new IOException($"{name}: tcsetattr failed: {LibC.Describe(errno)}");
        }

        // tcsetattr(3) succeeds when *any* of the changes was made, and drivers drop what their hardware cannot do (a rate
        // the USB-serial chip lacks, RTS/CTS on a UART without the lines) without an error. A DP5 at the wrong rate or
        // framing answers nothing, which would look like a dead device; read the settings back instead.
        LibC.Termios applied;
        if (termios.TcGetAttr(fd, &applied) != 0)
        {
            var errno = LibC.LastError;
            throw new IOException($"{name}: cannot read the settings back (tcgetattr: {LibC.Describe(errno)})");
        }

        if (FindMismatch(&t, &applied) is { } mismatch)
        {
            throw new IOException($"{name}: the serial driver did not keep {mismatch} (tcgetattr after tcsetattr); the device or its driver does not support this setting");
        }
    }

    /// <summary>The first field we set that <paramref name="got"/> does not have as <paramref name="wanted"/> has it, described; null when all match.</summary>
    internal static unsafe string? FindMismatch(LibC.Termios* wanted, LibC.Termios* got)
    {
        var ic = CultureInfo.InvariantCulture;
        if (LibC.CfGetOSpeed(wanted) != LibC.CfGetOSpeed(got) || LibC.CfGetISpeed(wanted) != LibC.CfGetISpeed(got))
        {
            return $"the line speed: asked {Baud(LibC.CfGetOSpeed(wanted))} (in {Baud(LibC.CfGetISpeed(wanted))}), read back {Baud(LibC.CfGetOSpeed(got))} (in {Baud(LibC.CfGetISpeed(got))})";
        }

        (string Field, uint Wanted, uint Got, uint Mask)[] fields =
        [
            ("the character size (CS8, c_cflag CSIZE)", wanted->c_cflag, got->c_cflag, LibC.CSIZE),
            ("parity off (c_cflag PARENB)", wanted->c_cflag, got->c_cflag, LibC.PARENB),
            ("one stop bit (c_cflag CSTOPB)", wanted->c_cflag, got->c_cflag, LibC.CSTOPB),
            ("hardware flow control off (c_cflag CRTSCTS)", wanted->c_cflag, got->c_cflag, LibC.CRTSCTS),
            ("CLOCAL|CREAD (c_cflag)", wanted->c_cflag, got->c_cflag, LibC.CLOCAL | LibC.CREAD),
            ("software flow control off (c_iflag IXON|IXOFF|IXANY)", wanted->c_iflag, got->c_iflag, LibC.IXON | LibC.IXOFF | LibC.IXANY),
            ("raw input (c_iflag IGNBRK|BRKINT|PARMRK|ISTRIP|INLCR|IGNCR|ICRNL)", wanted->c_iflag, got->c_iflag, LibC.IGNBRK | LibC.BRKINT | LibC.PARMRK | LibC.ISTRIP | LibC.INLCR | LibC.IGNCR | LibC.ICRNL),
            ("raw output (c_oflag OPOST)", wanted->c_oflag, got->c_oflag, LibC.OPOST),
            ("raw mode (c_lflag ECHO|ECHONL|ICANON|ISIG|IEXTEN)", wanted->c_lflag, got->c_lflag, LibC.ECHO | LibC.ECHONL | LibC.ICANON | LibC.ISIG | LibC.IEXTEN),
            ("VMIN (c_cc[VMIN])", wanted->c_cc[LibC.VMIN], got->c_cc[LibC.VMIN], 0xFF),
            ("VTIME (c_cc[VTIME])", wanted->c_cc[LibC.VTIME], got->c_cc[LibC.VTIME], 0xFF),
        ];
        foreach (var (field, w, g, mask) in fields)
        {
            if ((w & mask) != (g & mask))
            {
                return string.Create(ic, $"{field}: asked 0x{w & mask:X}, read back 0x{g & mask:X}");
            }
        }

        return null;
    }

    private static string Baud(uint speed) => speed switch
    {
        LibC.B9600 => "9600 baud",
        LibC.B19200 => "19200 baud",
        LibC.B57600 => "57600 baud",
        LibC.B115200 => "115200 baud",
        _ => string.Create(CultureInfo.InvariantCulture, $"speed code 0x{speed:X}"),
    };

    internal static Exception OpenError(string path, int errno)
    {
        var libc = LibC.Describe(errno);
        return errno switch
        {
            LibC.EACCES or LibC.EPERM => new UnauthorizedAccessException(
                $"{path}: {libc}. Add the user to the group that owns the device (usually `sudo usermod -aG dialout $USER`, then log in again) " +
                "or install a udev rule granting access (see docs/acquisition.md)."),
            LibC.ENOENT or LibC.ENODEV or LibC.ENXIO => new FileNotFoundException(
                $"{path}: {libc}. The device is not present: check the cable/adapter and the path (ls /dev/ttyUSB* /dev/ttyACM* /dev/serial/by-id).", path),
            LibC.EBUSY => new IOException(
                $"{path}: {libc}. Another process holds the port exclusively (a second xrfedge, a getty, ModemManager or a terminal program); find it with `fuser {path}`."),
            _ => new IOException(string.Create(CultureInfo.InvariantCulture, $"{path}: open failed: {libc} (errno {errno})")),
        };
    }

    private static uint SpeedConstant(int baudRate) => baudRate switch
    {
        115200 => LibC.B115200,
        57600 => LibC.B57600,
        19200 => LibC.B19200,
        _ => throw new ArgumentOutOfRangeException(nameof(baudRate), baudRate, "The DP5 supports 115200, 57600 or 19200 baud (Programmer's Guide §4.1.36)."),
    };
}

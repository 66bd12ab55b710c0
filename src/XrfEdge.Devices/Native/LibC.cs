using System.Runtime.InteropServices;

namespace XrfEdge.Devices.Native;

/// <summary>
/// The libc calls XrfEdge uses for serial ports (termios, flock), pseudo-terminals and spidev ioctls.
/// Constants are the Linux generic ABI values shared by x86-64 and arm64
/// (<c>include/uapi/asm-generic/termbits.h</c>, <c>fcntl.h</c>, <c>ioctls.h</c>, <c>errno-base.h</c>).
/// </summary>
internal static partial class LibC
{
    private const string Library = "libc";

    public const int O_RDWR = 0x2;
    public const int O_NOCTTY = 0x100;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int ENXIO = 6;
    public const int EPERM = 1;
    public const int EMSGSIZE = 90;

    /// <summary>EWOULDBLOCK: the same value as EAGAIN on Linux (asm-generic/errno.h).</summary>
    public const int EWOULDBLOCK = EAGAIN;

    // flock(2) operations (include/uapi/asm-generic/fcntl.h).
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    // termios flags (asm-generic/termbits.h).
    public const uint IGNBRK = 0x1;
    public const uint BRKINT = 0x2;
    public const uint PARMRK = 0x8;
    public const uint ISTRIP = 0x20;
    public const uint INLCR = 0x40;
    public const uint IGNCR = 0x80;
    public const uint ICRNL = 0x100;
    public const uint OPOST = 0x1;
    public const uint ISIG = 0x1;
    public const uint ICANON = 0x2;
    public const uint ECHO = 0x8;
    public const uint ECHONL = 0x40;
    public const uint IEXTEN = 0x8000;
    public const uint IXON = 0x400;
    public const uint IXANY = 0x800;
    public const uint IXOFF = 0x1000;
    public const uint CSIZE = 0x30;
    public const uint CS8 = 0x30;
    public const uint CSTOPB = 0x40;
    public const uint CREAD = 0x80;
    public const uint PARENB = 0x100;
    public const uint HUPCL = 0x400;
    public const uint CLOCAL = 0x800;
    public const uint CRTSCTS = 0x80000000;
    public const int VTIME = 5;
    public const int VMIN = 6;
    public const uint B9600 = 0xD;
    public const uint B19200 = 0xE;
    public const uint B57600 = 0x1001;
    public const uint B115200 = 0x1002;
    public const int TCSANOW = 0;
    public const int TCIFLUSH = 0;
    public const int TCOFLUSH = 1;
    public const int TCIOFLUSH = 2;

    // ioctl request numbers (asm-generic/ioctls.h).
    public const ulong TIOCEXCL = 0x540C;
    public const ulong FIONREAD = 0x541B;

    /// <summary>glibc <c>struct termios</c> (NCCS = 32): 60 bytes on every Linux ABI we target.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct Termios
    {
        public uint c_iflag;
        public uint c_oflag;
        public uint c_cflag;
        public uint c_lflag;
        public byte c_line;
        public fixed byte c_cc[32];
        public uint c_ispeed;
        public uint c_ospeed;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static unsafe partial int Ioctl(int fd, ulong request, void* argument);

    [LibraryImport(Library, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(Library, EntryPoint = "tcgetattr", SetLastError = true)]
    public static unsafe partial int TcGetAttr(int fd, Termios* termios);

    [LibraryImport(Library, EntryPoint = "tcsetattr", SetLastError = true)]
    public static unsafe partial int TcSetAttr(int fd, int optionalActions, Termios* termios);

    [LibraryImport(Library, EntryPoint = "cfmakeraw")]
    public static unsafe partial void CfMakeRaw(Termios* termios);

    [LibraryImport(Library, EntryPoint = "cfsetispeed", SetLastError = true)]
    public static unsafe partial int CfSetISpeed(Termios* termios, uint speed);

    [LibraryImport(Library, EntryPoint = "cfsetospeed", SetLastError = true)]
    public static unsafe partial int CfSetOSpeed(Termios* termios, uint speed);

    [LibraryImport(Library, EntryPoint = "cfgetispeed")]
    public static unsafe partial uint CfGetISpeed(Termios* termios);

    [LibraryImport(Library, EntryPoint = "cfgetospeed")]
    public static unsafe partial uint CfGetOSpeed(Termios* termios);

    [LibraryImport(Library, EntryPoint = "tcflush", SetLastError = true)]
    public static partial int TcFlush(int fd, int queueSelector);

    [LibraryImport(Library, EntryPoint = "posix_openpt", SetLastError = true)]
    public static partial int PosixOpenPt(int flags);

    [LibraryImport(Library, EntryPoint = "grantpt", SetLastError = true)]
    public static partial int GrantPt(int fd);

    [LibraryImport(Library, EntryPoint = "unlockpt", SetLastError = true)]
    public static partial int UnlockPt(int fd);

    [LibraryImport(Library, EntryPoint = "ptsname_r", SetLastError = true)]
    public static unsafe partial int PtsNameR(int fd, byte* buffer, nuint length);

    /// <summary>The calling thread's last errno from a <c>SetLastError</c> import.</summary>
    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>libc's own text for <paramref name="errno"/> (strerror).</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}

using System.Text;

namespace XrfEdge.Devices.Native;

/// <summary>
/// A pseudo-terminal pair created with <c>posix_openpt</c>/<c>grantpt</c>/<c>unlockpt</c>/<c>ptsname_r</c>:
/// the simulator serves on the master end, a client opens <see cref="SlavePath"/> like any serial port.
/// The slave end is held open here (and set raw) so the master never sees EIO between clients and
/// bytes pass untranslated.
/// </summary>
public sealed class PseudoTerminal : IDisposable
{
    private readonly FileDescriptorHandle _master;
    private readonly FileDescriptorHandle _slave;
    private readonly FileDescriptorStream _stream;

    private PseudoTerminal(FileDescriptorHandle master, FileDescriptorHandle slave, string slavePath)
    {
        _master = master;
        _slave = slave;
        SlavePath = slavePath;
        _stream = new FileDescriptorStream(master, $"pty master ({slavePath})", ownsHandle: false);
    }

    /// <summary>The slave device path, e.g. <c>/dev/pts/7</c>.</summary>
    public string SlavePath { get; }

    /// <summary>The master end as a stream (what a device would send and receive).</summary>
    public Stream MasterStream => _stream;

    /// <summary>Creates a new raw pty pair.</summary>
    /// <exception cref="IOException">The kernel refused (no ptys left, devpts not mounted), with libc's message.</exception>
    public static unsafe PseudoTerminal Create()
    {
        var fd = LibC.PosixOpenPt(LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0)
        {
            throw Fail("posix_openpt");
        }

        var master = new FileDescriptorHandle(fd);
        try
        {
            if (LibC.GrantPt(fd) != 0)
            {
                throw Fail("grantpt");
            }

            if (LibC.UnlockPt(fd) != 0)
            {
                throw Fail("unlockpt");
            }

            var name = stackalloc byte[256];
            var rc = LibC.PtsNameR(fd, name, 256);
            if (rc != 0)
            {
                throw new IOException($"ptsname_r failed: {LibC.Describe(rc)}");
            }

            var path = Encoding.UTF8.GetString(new ReadOnlySpan<byte>(name, 256).TrimEnd((byte)0)).Split('\0')[0];
            var slaveFd = LibC.Open(path, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
            if (slaveFd < 0)
            {
                throw SerialPort.OpenError(path, LibC.LastError);
            }

            var slave = new FileDescriptorHandle(slaveFd);
            try
            {
                SerialPort.ConfigureRaw(slaveFd, path, LibC.B115200);
            }
            catch
            {
                slave.Dispose();
                throw;
            }

            return new PseudoTerminal(master, slave, path);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    /// <summary>Closes both ends: a client reading the slave sees a hang-up, as when a cable is pulled.</summary>
    public void Dispose()
    {
        _stream.Dispose();
        _slave.Dispose();
        _master.Dispose();
    }

    private static IOException Fail(string call)
    {
        var errno = LibC.LastError;
        return new IOException($"{call} failed: {LibC.Describe(errno)} (errno {errno})");
    }
}

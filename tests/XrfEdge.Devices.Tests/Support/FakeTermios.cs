using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Tests.Support;

/// <summary>
/// termios calls that reach the real tty (a socat pty) but, once <c>tcsetattr</c> has succeeded, hand back what
/// <c>tcgetattr</c> read with <see cref="Edit"/> applied: a driver that accepted the call and silently dropped a setting,
/// as tcsetattr(3) allows ("success if any of the requested changes could be successfully carried out").
/// </summary>
internal sealed unsafe class FakeTermios(FakeTermios.Edit edit) : ITermios
{
    /// <summary>Changes a read-back <c>struct termios</c>.</summary>
    public delegate void Edit(LibC.Termios* termios);

    private bool _set;

    /// <summary><c>tcgetattr</c> calls so far.</summary>
    public int GetAttrCalls { get; private set; }

    public int TcGetAttr(int fd, LibC.Termios* termios)
    {
        GetAttrCalls++;
        var rc = LibC.TcGetAttr(fd, termios);
        if (rc == 0 && _set)
        {
            edit(termios);
        }

        return rc;
    }

    public int TcSetAttr(int fd, int optionalActions, LibC.Termios* termios)
    {
        var rc = LibC.TcSetAttr(fd, optionalActions, termios);
        _set |= rc == 0;
        return rc;
    }
}

using System.Net.Sockets;
using System.Text;

namespace XrfEdge.Service.Systemd;

/// <summary>
/// sd_notify(3) written here (the Microsoft.Extensions.Hosting.Systemd package is not available): one AF_UNIX
/// datagram of newline-separated <c>KEY=VALUE</c> lines to <c>$NOTIFY_SOCKET</c>. A leading <c>@</c> names a
/// Linux abstract socket (replaced by NUL). No credentials are attached: systemd's socket has SO_PASSCRED, so the
/// kernel supplies our PID (unix(7)). When <c>$NOTIFY_SOCKET</c> is unset every call does nothing.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly object _gate = new();
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private Socket? _socket;

    /// <summary>Creates a notifier for the given socket address (<c>/run/…</c>, <c>@abstract</c>, or null/empty = disabled).</summary>
    public SystemdNotifier(string? notifySocket)
    {
        if (string.IsNullOrEmpty(notifySocket))
        {
            return;
        }

        _endPoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
    }

    /// <summary>True when a notify socket was given.</summary>
    public bool IsEnabled => _endPoint is not null;

    /// <summary>Creates a notifier from the process environment.</summary>
    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>Sends one notification such as <c>READY=1\nSTATUS=idle</c>; false when disabled or the send failed (advisory, as in sd_notify).</summary>
    public bool Notify(string state)
    {
        if (_endPoint is null)
        {
            return false;
        }

        var payload = Encoding.UTF8.GetBytes(state);
        lock (_gate)
        {
            try
            {
                if (_socket is null)
                {
                    _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                    _socket.Connect(_endPoint);
                }

                return _socket.Send(payload) == payload.Length;
            }
            catch (SocketException)
            {
                // systemd may have been restarted (daemon-reexec): reconnect on the next notification.
                _socket?.Dispose();
                _socket = null;
                return false;
            }
        }
    }

    /// <summary>Makes a <c>STATUS=</c> value single-line, as systemctl shows only one line.</summary>
    public static string StatusLine(string status) => status.Replace('\n', ' ').Replace('\r', ' ');

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }
}

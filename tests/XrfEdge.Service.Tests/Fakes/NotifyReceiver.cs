using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>Plays systemd's side of sd_notify: an AF_UNIX datagram socket in the abstract namespace collecting notifications.</summary>
internal sealed class NotifyReceiver : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly BlockingCollection<string> _messages = [];
    private readonly Thread _thread;

    public NotifyReceiver()
    {
        Name = "xrfedge-test-" + Guid.NewGuid().ToString("N");
        _socket.Bind(new UnixDomainSocketEndPoint("\0" + Name));
        _thread = new Thread(Receive) { IsBackground = true };
        _thread.Start();
    }

    /// <summary>Abstract socket name without the leading NUL.</summary>
    public string Name { get; }

    /// <summary>The value for NOTIFY_SOCKET (<c>@name</c>).</summary>
    public string Address => "@" + Name;

    public List<string> Received { get; } = [];

    /// <summary>Waits for a datagram containing <paramref name="line"/> (a whole KEY=VALUE line), at most <paramref name="timeout"/>.</summary>
    public string? WaitFor(string line, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (Received)
        {
            var seen = Received.FirstOrDefault(m => m.Split('\n').Contains(line));
            if (seen is not null)
            {
                return seen;
            }
        }

        while (DateTime.UtcNow < deadline)
        {
            if (_messages.TryTake(out var message, deadline - DateTime.UtcNow) && message.Split('\n').Contains(line))
            {
                return message;
            }
        }

        return null;
    }

    public void Dispose()
    {
        _socket.Dispose();
        _thread.Join(TimeSpan.FromSeconds(2));
        _messages.Dispose();
    }

    private void Receive()
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int n = _socket.Receive(buffer);
                var text = Encoding.UTF8.GetString(buffer, 0, n);
                lock (Received)
                {
                    Received.Add(text);
                }

                _messages.Add(text);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }
}

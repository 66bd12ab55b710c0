using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A listener on 127.0.0.1 in front of a real broker that can hold a client's TCP connect in the kernel: its accept queue
/// (backlog 1) is filled by two connections nobody accepts, and Linux then drops every further SYN (net/ipv4/tcp_input.c,
/// <c>tcp_conn_request</c>: <c>sk_acceptq_is_full</c> → drop), so a blocking <c>connect</c> waits for its SYN to be sent
/// again (1 s, then 2 s, 4 s, … later) until <see cref="Release"/> accepts and forwards everything to the broker.
/// </summary>
public sealed class BacklogGate : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _fillers = [];
    private readonly List<Socket> _piped = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    public BacklogGate(int targetPort)
    {
        _target = targetPort;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <summary>Accepts one connection and forwards it to the broker; <see cref="CutPiped"/> ends it.</summary>
    public async Task AcceptOneAsync() => Pipe(await _listener.AcceptAsync(_stop.Token));

    /// <summary>Fills the accept queue (backlog 1 holds two), so the next SYN is dropped.</summary>
    public async Task FillAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _fillers.Add(filler);
            await filler.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), _stop.Token);
        }
    }

    /// <summary>Closes every forwarded connection, both sides: the client reads end of file.</summary>
    public void CutPiped()
    {
        lock (_gate)
        {
            foreach (var socket in _piped)
            {
                socket.Dispose();
            }

            _piped.Clear();
        }
    }

    /// <summary>From now on every connection is accepted and forwarded (the fillers' too, which close at once).</summary>
    public void Release()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    Pipe(await _listener.AcceptAsync(_stop.Token));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        });
    }

    /// <summary>
    /// True while a socket of this process's host is in SYN-SENT towards the gate (<c>/proc/net/tcp</c>: state 02, remote
    /// address 0100007F:port, both hex): a client's connect is held.
    /// </summary>
    public bool ConnectHeld()
    {
        var remote = $"0100007F:{Port.ToString("X4", CultureInfo.InvariantCulture)}";
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(f => f.Length > 3 && f[2] == remote && f[3] == "02");
    }

    /// <summary>Closes the listener (a later SYN is refused: RST) and every connection; may be called again.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        _listener.Dispose();
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        CutPiped();
        _stop.Dispose();
    }

    private void Pipe(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_gate)
        {
            _piped.Add(client);
            _piped.Add(upstream);
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _target), _stop.Token);
                using var a = new NetworkStream(client, ownsSocket: false);
                using var b = new NetworkStream(upstream, ownsSocket: false);
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
            {
            }
            finally
            {
                client.Dispose();
                upstream.Dispose();
            }
        });
    }
}

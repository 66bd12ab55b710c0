using System.Net;
using System.Net.Sockets;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a real broker, one connection at a time as a device makes them. What passes
/// through is up to the handler, which gets the device's stream and a way to open the broker's (not opened for a
/// connection it refuses); both connections close when it returns.
/// </summary>
public sealed class LoopbackProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly Func<NetworkStream, Func<Task<NetworkStream>>, CancellationToken, Task> _handle;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="targetPort">The broker's port on 127.0.0.1.</param>
    /// <param name="handle">Runs one connection: (device stream, open the broker's stream, stop token).</param>
    public LoopbackProxy(int targetPort, Func<NetworkStream, Func<Task<NetworkStream>>, CancellationToken, Task> handle)
    {
        _target = targetPort;
        _handle = handle;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _ = HandleAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            TcpClient? upstream = null;
            try
            {
                await _handle(
                    client.GetStream(),
                    async () =>
                    {
                        upstream = new TcpClient();
                        await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                        return upstream.GetStream();
                    },
                    _stop.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or EndOfStreamException or ObjectDisposedException)
            {
            }
            finally
            {
                upstream?.Dispose();
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A slow uplink in front of a real broker (a poor cellular or satellite link in the field): bytes from the client reach
/// the broker at about <c>bytesPerSecond</c>, in 1 KiB steps; the broker's answers come back at once. A TCP proxy on
/// 127.0.0.1, one connection at a time as a device makes them.
/// </summary>
public sealed class SimulatedSlowLink : IDisposable
{
    private const int StepBytes = 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly TimeSpan _stepDelay;
    private readonly CancellationTokenSource _stop = new();

    public SimulatedSlowLink(int targetPort, int bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, StepBytes);
        _target = targetPort;
        _stepDelay = TimeSpan.FromSeconds((double)StepBytes / bytesPerSecond);
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
            try
            {
                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var device = client.GetStream();
                var broker = upstream.GetStream();
                await Task.WhenAny(UplinkAsync(device, broker), broker.CopyToAsync(device, _stop.Token));
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task UplinkAsync(NetworkStream device, NetworkStream broker)
    {
        var buffer = new byte[StepBytes];
        int read;
        while ((read = await device.ReadAsync(buffer, _stop.Token)) > 0)
        {
            await broker.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            await Task.Delay(_stepDelay, _stop.Token);
        }
    }
}

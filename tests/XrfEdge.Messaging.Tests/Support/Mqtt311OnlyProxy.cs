using System.Net;
using System.Net.Sockets;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// Simulates a broker that speaks only MQTT 3.1.1 (older brokers and some cloud hubs): a CONNECT with protocol level 5
/// gets the 3.1.1 CONNACK "unacceptable protocol version" (0x20 0x02 0x00 0x01, MQTT 3.1.1 §3.2.2.3) and the link is
/// closed; a level-4 CONNECT is piped to the real mosquitto behind it. mosquitto itself cannot be limited to 3.1.1.
/// </summary>
public sealed class Mqtt311OnlyProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private int _refusedV5;

    public Mqtt311OnlyProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int RefusedV5 => Volatile.Read(ref _refusedV5);

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
                var stream = client.GetStream();

                // CONNECT: fixed header byte, remaining length (1 byte for our small CONNECTs), then "\0\x04MQTT" + level.
                var head = new byte[9];
                await stream.ReadExactlyAsync(head, _stop.Token);
                if (head[8] == 5)
                {
                    Interlocked.Increment(ref _refusedV5);
                    await stream.WriteAsync(new byte[] { 0x20, 0x02, 0x00, 0x01 }, _stop.Token);
                    await stream.FlushAsync(_stop.Token);
                    return;
                }

                using var upstream = new TcpClient();
                await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                var server = upstream.GetStream();
                await server.WriteAsync(head, _stop.Token);
                await Task.WhenAny(stream.CopyToAsync(server, _stop.Token), server.CopyToAsync(stream, _stop.Token));
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or EndOfStreamException or ObjectDisposedException)
            {
            }
        }
    }
}

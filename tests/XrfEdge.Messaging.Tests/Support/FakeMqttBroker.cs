using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A minimal MQTT 5 broker for one client that records the size on the wire of every PUBLISH it receives: it answers
/// CONNECT with a v5 CONNACK (0x20 0x03, session present 0, reason 0, no properties; MQTT 5.0 §3.2), a QoS 1 PUBLISH with
/// PUBACK (0x40 0x02 + packet id, reason 0 implied; §3.4.2.1), PINGREQ with PINGRESP (0xD0 0x00), and reads everything
/// else away. mosquitto cannot show the bytes a client sent; this can.
/// </summary>
public sealed class FakeMqttBroker : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public FakeMqttBroker()
    {
        _listener.Start();
        _ = ServeAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every PUBLISH so far, in arrival order: its topic and its total size (fixed header included).</summary>
    public ConcurrentQueue<(string Topic, int TotalBytes)> Publishes { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        try
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            var header = new byte[1];
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);

                // Remaining length: Variable Byte Integer, 7 bits per byte, least significant first (MQTT 5.0 §1.5.5).
                int remaining = 0, lengthBytes = 0, shift = 0;
                var next = new byte[1];
                do
                {
                    await stream.ReadExactlyAsync(next, _stop.Token);
                    remaining |= (next[0] & 0x7F) << shift;
                    shift += 7;
                    lengthBytes++;
                }
                while ((next[0] & 0x80) != 0);

                var body = new byte[remaining];
                await stream.ReadExactlyAsync(body, _stop.Token);
                switch (header[0] >> 4)
                {
                    case 1: // CONNECT
                        await stream.WriteAsync(new byte[] { 0x20, 0x03, 0x00, 0x00, 0x00 }, _stop.Token);
                        break;
                    case 3: // PUBLISH: topic length (2, big-endian) and topic, then the packet id for QoS > 0
                        var topicLength = (body[0] << 8) | body[1];
                        Publishes.Enqueue((System.Text.Encoding.UTF8.GetString(body, 2, topicLength), 1 + lengthBytes + remaining));
                        if (((header[0] >> 1) & 0x03) > 0)
                        {
                            await stream.WriteAsync(new byte[] { 0x40, 0x02, body[2 + topicLength], body[3 + topicLength] }, _stop.Token);
                        }

                        break;
                    case 12: // PINGREQ
                        await stream.WriteAsync(new byte[] { 0xD0, 0x00 }, _stop.Token);
                        break;
                    default:
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException or EndOfStreamException)
        {
        }
    }
}

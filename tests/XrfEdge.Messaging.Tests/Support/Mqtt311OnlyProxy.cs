namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// Simulates a broker that speaks only MQTT 3.1.1 (older brokers and some cloud hubs): a CONNECT with protocol level 5
/// gets the 3.1.1 CONNACK "unacceptable protocol version" (0x20 0x02 0x00 0x01, MQTT 3.1.1 §3.2.2.3) and the link is
/// closed; a level-4 CONNECT is piped to the real mosquitto behind it. mosquitto itself cannot be limited to 3.1.1.
/// A <see cref="LoopbackProxy"/>.
/// </summary>
public sealed class Mqtt311OnlyProxy : IDisposable
{
    private readonly LoopbackProxy _proxy;
    private int _refusedV5;

    public Mqtt311OnlyProxy(int targetPort)
    {
        _proxy = new LoopbackProxy(targetPort, async (device, openBroker, stop) =>
        {
            // CONNECT: fixed header byte, remaining length (1 byte for our small CONNECTs), then "\0\x04MQTT" + level.
            var head = new byte[9];
            await device.ReadExactlyAsync(head, stop);
            if (head[8] == 5)
            {
                Interlocked.Increment(ref _refusedV5);
                await device.WriteAsync(new byte[] { 0x20, 0x02, 0x00, 0x01 }, stop);
                await device.FlushAsync(stop);
                return;
            }

            var broker = await openBroker();
            await broker.WriteAsync(head, stop);
            await Task.WhenAny(device.CopyToAsync(broker, stop), broker.CopyToAsync(device, stop));
        });
    }

    public int Port => _proxy.Port;

    public int RefusedV5 => Volatile.Read(ref _refusedV5);

    public void Dispose() => _proxy.Dispose();
}

using System.Collections.Concurrent;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>A subscriber on our own transport that records everything it receives.</summary>
public sealed class TestSubscriber : IAsyncDisposable
{
    private readonly ConcurrentQueue<MqttInboundMessage> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly Task _pump;

    private TestSubscriber(MosquittoTransport transport)
    {
        Transport = transport;
        _pump = Task.Run(async () =>
        {
            await foreach (var m in transport.Messages.ReadAllAsync())
            {
                _received.Enqueue(m);
                _arrived.Release();
            }
        });
    }

    public MosquittoTransport Transport { get; }

    public IReadOnlyCollection<MqttInboundMessage> Received => _received;

    public static async Task<TestSubscriber> ConnectAsync(MosquittoBroker broker, string filter, string? clientId = null, MqttProtocolVersion protocol = MqttProtocolVersion.V5, bool cleanSession = true)
    {
        var transport = new MosquittoTransport(new MqttTransportOptions
        {
            Host = "127.0.0.1",
            Port = broker.Port,
            ClientId = clientId ?? "sub-" + Guid.NewGuid().ToString("N")[..8],
            Protocol = protocol,
            CleanSession = cleanSession,
            KeepAlive = TimeSpan.FromSeconds(5),
            ReconnectDelayMax = TimeSpan.FromSeconds(1),
        });
        var subscriber = new TestSubscriber(transport);
        transport.Subscribe(filter, 1);
        transport.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await transport.WaitConnectedAsync(timeout.Token);
        return subscriber;
    }

    /// <summary>Waits (real time bound, not a timing assertion) for a message matching <paramref name="match"/>.</summary>
    public async Task<MqttInboundMessage> WaitForAsync(Func<MqttInboundMessage, bool> match, double timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var hit = _received.FirstOrDefault(match);
            if (hit is not null)
            {
                return hit;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No matching message within {timeoutSeconds} s; received topics: {string.Join(", ", _received.Select(m => m.Topic).Distinct())}");
            }

            await _arrived.WaitAsync(left);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking on every arrival (bounded by a failure deadline).</summary>
    public async Task WaitUntilAsync(Func<bool> condition, double timeoutSeconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"condition not reached within {timeoutSeconds} s ({_received.Count} messages received)");
            }

            await _arrived.WaitAsync(left);
        }
    }

    public Task<MqttInboundMessage> WaitForTopicAsync(string topic, double timeoutSeconds = 30) => WaitForAsync(m => m.Topic == topic, timeoutSeconds);

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync();
        await _pump;
        _arrived.Dispose();
    }
}

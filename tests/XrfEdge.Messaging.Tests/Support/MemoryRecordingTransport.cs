using System.Collections.Concurrent;
using System.Threading.Channels;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A real transport with every message handed to it recorded, in order: what libmosquitto was given to keep and send,
/// which a subscriber cannot tell apart from what a reconnect replays.
/// </summary>
public sealed class MemoryRecordingTransport(MosquittoTransport inner) : IMqttTransport
{
    private readonly ConcurrentQueue<MqttOutboundMessage> _handed = new();

    /// <summary>Every message passed to <see cref="PublishAsync"/>, oldest first.</summary>
    public IReadOnlyCollection<MqttOutboundMessage> Handed => _handed;

    public MqttConnectionState State => inner.State;

    public MqttProtocolVersion NegotiatedProtocol => inner.NegotiatedProtocol;

    public DateTimeOffset? ConnectedSince => inner.ConnectedSince;

    public long ReconnectCount => inner.ReconnectCount;

    public int? LastDisconnectCode => inner.LastDisconnectCode;

    public string? LastConnectRefusal => inner.LastConnectRefusal;

    public ChannelReader<MqttInboundMessage> Messages => inner.Messages;

    public event EventHandler<MqttStateChangedEventArgs>? StateChanged
    {
        add => inner.StateChanged += value;
        remove => inner.StateChanged -= value;
    }

    public void Start() => inner.Start();

    public Task WaitConnectedAsync(CancellationToken cancellationToken) => inner.WaitConnectedAsync(cancellationToken);

    public void Subscribe(string topicFilter, int qos) => inner.Subscribe(topicFilter, qos);

    public Task<MqttPublishOutcome> PublishAsync(MqttOutboundMessage message, CancellationToken cancellationToken)
    {
        _handed.Enqueue(message);
        return inner.PublishAsync(message, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

using System.Threading.Channels;

namespace XrfEdge.Messaging.Transport;

/// <summary>
/// A small MQTT client surface shaped after what XrfEdge needs (connect with retries, QoS 0/1 publish that completes on
/// PUBACK, subscriptions that survive reconnects, v5 properties). <see cref="MosquittoTransport"/> is the real one.
/// </summary>
public interface IMqttTransport : IAsyncDisposable
{
    /// <summary>Current connection state.</summary>
    MqttConnectionState State { get; }

    /// <summary>Protocol actually in use after any 3.1.1 fallback.</summary>
    MqttProtocolVersion NegotiatedProtocol { get; }

    /// <summary>When the current connection was accepted; null while not connected. Rows older than this are "historical".</summary>
    DateTimeOffset? ConnectedSince { get; }

    /// <summary>Connections established after the first one (i.e. reconnects).</summary>
    long ReconnectCount { get; }

    /// <summary>The <c>mosq_err_t</c> of the last unexpected disconnect, or null.</summary>
    int? LastDisconnectCode { get; }

    /// <summary>
    /// The broker's last refusal of a CONNECT (its CONNACK reason named, e.g. "connection refused: Not authorized
    /// (CONNACK 135, 0x87)"), kept after a later successful connect; null when none was refused.
    /// </summary>
    string? LastConnectRefusal => null;

    /// <summary>Raised (off the network thread, in order) on every state change.</summary>
    event EventHandler<MqttStateChangedEventArgs>? StateChanged;

    /// <summary>Messages received on the subscriptions.</summary>
    ChannelReader<MqttInboundMessage> Messages { get; }

    /// <summary>
    /// Starts the network thread and the first connect; returns at once (the broker may be down). Allowed on a new
    /// transport and after a completed <see cref="StopAsync"/>; otherwise <see cref="InvalidOperationException"/> naming
    /// the state, nothing changed (since 2026-11-24).
    /// </summary>
    void Start();

    /// <summary>Completes when the transport is connected.</summary>
    Task WaitConnectedAsync(CancellationToken cancellationToken);

    /// <summary>Subscribes now (if connected) and after every reconnect.</summary>
    void Subscribe(string topicFilter, int qos);

    /// <summary>
    /// Publishes one message. QoS 1 completes when the PUBACK arrives (possibly after reconnects; the library keeps the
    /// message); QoS 0 completes when written to the socket or throws when offline. A message whose PUBLISH packet is
    /// larger than the broker accepts (its CONNACK Maximum Packet Size) or than the client's own limit
    /// (<see cref="MqttTransportOptions.MaxPacketBytes"/>; the smaller applies) completes at once, unsent, as refused
    /// with reason 0x95 "packet too large". Any
    /// other call the library rejects throws <see cref="MqttException"/> with its <c>mosq_err_t</c>: the outbox drainer
    /// waits for the reconnect on MOSQ_ERR_NO_CONN/CONN_LOST (or when no longer connected), and counts anything else
    /// (MOSQ_ERR_INVAL for a topic it rejects) as a refusal of that row, dead-lettered after MaxAttempts.
    /// </summary>
    Task<MqttPublishOutcome> PublishAsync(MqttOutboundMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Sends DISCONNECT (no will is published) and stops the network thread. The stop always runs to its end;
    /// <paramref name="cancellationToken"/> bounds only the caller's wait (since 2026-11-24).
    /// </summary>
    Task StopAsync(CancellationToken cancellationToken);
}

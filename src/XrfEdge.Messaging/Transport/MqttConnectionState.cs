namespace XrfEdge.Messaging.Transport;

/// <summary>Connection state of an <see cref="IMqttTransport"/>; each change is logged exactly once.</summary>
public enum MqttConnectionState
{
    /// <summary>Not started, or stopped.</summary>
    Stopped = 0,

    /// <summary>TCP/TLS connect and CONNECT sent, no CONNACK yet.</summary>
    Connecting = 1,

    /// <summary>CONNACK accepted; publishes flow.</summary>
    Connected = 2,

    /// <summary>Link lost or refused; the network thread retries with back-off.</summary>
    Disconnected = 3,
}

namespace XrfEdge.Messaging.Transport;

/// <summary>Connection settings of the MQTT transport (configuration section <c>Mqtt</c>).</summary>
public sealed class MqttTransportOptions
{
    /// <summary>Broker host name or address; must match the certificate when TLS is on.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Broker TCP port; 1883 plain, 8883 TLS.</summary>
    public int Port { get; set; } = 1883;

    /// <summary>Client id; unique per instrument (the device serial). Required for a persistent session.</summary>
    public required string ClientId { get; set; }

    /// <summary>Protocol version; <see cref="MqttProtocolVersion.Auto"/> = v5 with 3.1.1 fallback.</summary>
    public MqttProtocolVersion Protocol { get; set; } = MqttProtocolVersion.Auto;

    /// <summary>User name, or null for anonymous.</summary>
    public string? Username { get; set; }

    /// <summary>Password, or null.</summary>
    public string? Password { get; set; }

    /// <summary>TLS settings, or null for plain TCP.</summary>
    public MqttTlsOptions? Tls { get; set; }

    /// <summary>Keep-alive, whole seconds; libmosquitto requires ≥ 5. A silent broker is detected after 1.5× this.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True = clean session (clean start); false = the broker keeps our subscriptions and QoS 1 queue.</summary>
    public bool CleanSession { get; set; } = true;

    /// <summary>Last will, or null.</summary>
    public MqttLastWill? LastWill { get; set; }

    /// <summary>
    /// Called before the first connect, after every disconnect and before the supervisor's reconnect on a restarted
    /// network thread (since 2026-11-24) to produce the will of the next CONNECT (Sparkplug's
    /// NDEATH carries a bdSeq that changes per connection). Runs on the network thread: keep it cheap. Overrides <see cref="LastWill"/>.
    /// </summary>
    public Func<MqttLastWill>? WillProvider { get; set; }

    /// <summary>Most QoS 1 publishes handed to the library without PUBACK (MOSQ_OPT_SEND_MAXIMUM); 1–65535, 10 by default.
    /// Kept small because libmosquitto's own queue is unbounded and each publish scans it (reference §2.3).</summary>
    public int InFlightWindow { get; set; } = 10;

    /// <summary>v5 Receive Maximum we announce (QoS 1 messages the broker may have in flight to us); null = library default (65,535).</summary>
    public int? ReceiveMaximum { get; set; }

    /// <summary>
    /// Largest PUBLISH packet we send, in bytes (the whole packet: header, topic, properties and payload; MQTT 5.0
    /// §3.2.2.3.6); 1,024–268,435,455, null = no limit of our own. A larger publish is not handed to libmosquitto: it
    /// completes as refused with reason 0x95 "packet too large", as it does when the broker's CONNACK Maximum Packet Size
    /// is exceeded; the smaller of the two applies. Set it to the broker's <c>message_size_limit</c> or
    /// <c>max_packet_size</c>: an MQTT 3.1.1 broker announces neither and drops a larger message without a word.
    /// </summary>
    public int? MaxPacketBytes { get; set; }

    /// <summary>First reconnect delay; 1 s by default.</summary>
    public TimeSpan ReconnectDelayMin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Reconnect delay cap; 60 s by default.</summary>
    public TimeSpan ReconnectDelayMax { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>No PUBACK for this long while QoS 1 publishes wait, on a link that claims to be up, marks the broker frozen and
    /// forces a reconnect; counted from the latest of the oldest waiting publish, the connect and the last PUBACK, so a
    /// slow uplink whose PUBACKs keep coming is not taken for a frozen broker. Null = 2× keep-alive.</summary>
    public TimeSpan? AckTimeout { get; set; }

    /// <summary>
    /// How long a stop (or the supervisor's restart of the network thread) waits for libmosquitto to write the DISCONNECT
    /// and close the connection; 0.1–60 s, 2 s by default. A DISCONNECT queued behind a full send buffer (a broker that
    /// accepts TCP but reads nothing, a link that died with data unsent) is otherwise written never, and the network thread
    /// ends only when the keep-alive runs out: measured 30.0 s with the default keep-alive (docs/mqtt.md, "Stop against a
    /// frozen broker"). Past this time the transport shuts the socket down itself; QoS 1 messages it held stay unacknowledged.
    /// </summary>
    public TimeSpan DisconnectTimeout { get; set; } = DefaultDisconnectTimeout;

    /// <summary>The default <see cref="DisconnectTimeout"/>, 2 s: what the service's stop budget reserves for it.</summary>
    public static readonly TimeSpan DefaultDisconnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Messages published (retained birth) right after every accepted CONNACK, e.g. availability <c>online</c>.</summary>
    public IReadOnlyList<MqttOutboundMessage> BirthMessages { get; set; } = [];
}

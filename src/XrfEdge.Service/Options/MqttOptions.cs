using XrfEdge.Messaging.Transport;

namespace XrfEdge.Service.Options;

/// <summary>The <c>Mqtt</c> section: the broker and the topic root <c>xrf/v1/{Fleet}/{DeviceId}/…</c>.</summary>
public sealed class MqttOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Mqtt";

    /// <summary>Broker host name or address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Broker TCP port (1883 plain, 8883 TLS).</summary>
    public int Port { get; set; } = 1883;

    /// <summary>Fleet or site name in the topic root (characters A–Z a–z 0–9 _ -).</summary>
    public string Fleet { get; set; } = "default";

    /// <summary>Instrument serial number: topic segment and MQTT client id (characters A–Z a–z 0–9 _ -).</summary>
    public string DeviceId { get; set; } = "";

    /// <summary>MQTT keep-alive in seconds (5 … 600); a dead link is noticed after 1.5 × this.</summary>
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>Optional user name.</summary>
    public string? Username { get; set; }

    /// <summary>Optional password (prefer the environment variable XRFEDGE_Mqtt__Password over the profile file).</summary>
    public string? Password { get; set; }

    /// <summary>CA certificate file for TLS; TLS is used when set.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// Client certificate (PEM) for mutual TLS, for brokers that require one (mosquitto <c>require_certificate true</c>);
    /// needs <see cref="CaFile"/> and <see cref="KeyFile"/>.
    /// </summary>
    public string? CertFile { get; set; }

    /// <summary>Private key (PEM) of <see cref="CertFile"/>; readable by the service user only (mode 0600 or 0640).</summary>
    public string? KeyFile { get; set; }

    /// <summary>Password of an encrypted <see cref="KeyFile"/> (prefer the environment variable XRFEDGE_Mqtt__KeyPassword over the profile file).</summary>
    public string? KeyPassword { get; set; }

    /// <summary>
    /// Largest MQTT PUBLISH packet the service sends, in bytes (header, topic, properties and payload); null (the
    /// default) = no limit of our own. A larger message is refused before it is sent, as the broker's MQTT 5 reason 0x95
    /// would refuse it: an outbox row is dead-lettered, status and health are logged (7054). Set it to the broker's
    /// <c>message_size_limit</c> (or <c>max_packet_size</c>): an MQTT 3.1.1 broker drops a larger message silently.
    /// 1024 … 268435455 (MQTT's maximum, 256 MiB − 1).
    /// </summary>
    public int? MaxPacketBytes { get; set; }

    /// <summary>Limits of the remote command path (<c>Mqtt:Commands:…</c>).</summary>
    public MqttCommandsOptions Commands { get; set; } = new();

    /// <summary>Accept the MQTT <c>start</c> command (remote X-ray start). Off by default: a local decision of the instrument's owner; <c>stop</c> is always accepted.</summary>
    public bool RemoteControl { get; set; }

    /// <summary>Publish Home Assistant device discovery (<c>homeassistant/device/…/config</c>).</summary>
    public bool HomeAssistantDiscovery { get; set; }

    /// <summary>
    /// Longest random delay, in seconds, before the discovery config is re-sent when Home Assistant comes online (its
    /// birth, <c>homeassistant/status</c> = <c>online</c>), so a fleet does not answer one birth at the same instant:
    /// 0 … 60 (the publisher's range), 5 by default, 0 for at once. A connect is always answered at once. Since 2026-11-24.
    /// </summary>
    public double HomeAssistantBirthDelaySeconds { get; set; } = 5;

    /// <summary>
    /// How long a stop (or a restart of the network thread) waits for the DISCONNECT to be written before it shuts the
    /// socket down itself, in seconds: 0.1 … 30, 2 by default (the transport's <c>DefaultDisconnectTimeout</c>). Only a
    /// link that cannot take 2 bytes (a frozen broker with a full send buffer, a dead uplink) waits it out. The stop
    /// reserves 5 s (the unanswered <c>offline</c>) plus this out of <c>Health:StopTimeoutSeconds</c> after the drain.
    /// The transport takes up to 60 s; the service stops at 30 so that this reserve (35 s at most) stays inside the unit's
    /// <c>TimeoutStopSec=45s</c> (systemd/xrfedge.service), after which systemd kills the stop. Since 2026-11-25.
    /// </summary>
    public double DisconnectTimeoutSeconds { get; set; } = MqttTransportOptions.DefaultDisconnectTimeout.TotalSeconds;

    /// <summary>The transport's TLS settings: null (plain TCP) without <see cref="CaFile"/>.</summary>
    public MqttTlsOptions? ToTlsOptions() => CaFile is null ? null : new MqttTlsOptions
    {
        CaFile = CaFile,
        CertFile = CertFile,
        KeyFile = KeyFile,
        KeyPassword = string.IsNullOrEmpty(KeyPassword) ? null : KeyPassword,
    };
}

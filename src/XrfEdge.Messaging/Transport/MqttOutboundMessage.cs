namespace XrfEdge.Messaging.Transport;

/// <summary>A message to publish, with its MQTT 5 properties (ignored on 3.1.1).</summary>
public sealed record MqttOutboundMessage
{
    /// <summary>Topic name (no wildcards).</summary>
    public required string Topic { get; init; }

    /// <summary>Payload bytes; 0–268,435,455 bytes per MQTT, far less in practice (detections ≈ 1–10 KiB).</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>QoS 0 or 1 (QoS 2 is not used by XrfEdge).</summary>
    public int Qos { get; init; } = 1;

    /// <summary>Retain flag.</summary>
    public bool Retain { get; init; }

    /// <summary>v5 Content Type, e.g. "application/json".</summary>
    public string? ContentType { get; init; }

    /// <summary>v5 Response Topic.</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>v5 Correlation Data (opaque bytes, at most 65,535).</summary>
    public ReadOnlyMemory<byte>? CorrelationData { get; init; }

    /// <summary>v5 Message Expiry Interval, whole seconds; null = never expires.</summary>
    public TimeSpan? MessageExpiry { get; init; }

    /// <summary>v5 user properties.</summary>
    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];
}

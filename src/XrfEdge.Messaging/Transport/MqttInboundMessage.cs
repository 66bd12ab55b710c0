namespace XrfEdge.Messaging.Transport;

/// <summary>A received message copied out of the library's callback (its buffers are valid only during the callback).</summary>
public sealed record MqttInboundMessage
{
    /// <summary>Topic it arrived on.</summary>
    public required string Topic { get; init; }

    /// <summary>Payload bytes.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>QoS it was delivered with.</summary>
    public int Qos { get; init; }

    /// <summary>True when it is a retained message replayed on subscribe.</summary>
    public bool Retain { get; init; }

    /// <summary>v5 Response Topic, or null.</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>v5 Correlation Data, or null.</summary>
    public byte[]? CorrelationData { get; init; }

    /// <summary>v5 Content Type, or null.</summary>
    public string? ContentType { get; init; }

    /// <summary>v5 Message Expiry Interval remaining when the broker forwarded it, or null.</summary>
    public TimeSpan? MessageExpiry { get; init; }

    /// <summary>v5 user properties.</summary>
    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    /// <summary>When the transport received it (from its TimeProvider).</summary>
    public DateTimeOffset ReceivedAt { get; init; }
}

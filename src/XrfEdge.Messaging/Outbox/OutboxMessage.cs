namespace XrfEdge.Messaging.Outbox;

/// <summary>A message to store and publish later.</summary>
public sealed record OutboxMessage
{
    /// <summary>Kind (and eviction priority).</summary>
    public required OutboxKind Kind { get; init; }

    /// <summary>Topic to publish on.</summary>
    public required string Topic { get; init; }

    /// <summary>Payload bytes.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>QoS (detections: 1).</summary>
    public int Qos { get; init; } = 1;

    /// <summary>Retain flag.</summary>
    public bool Retain { get; init; }

    /// <summary>v5 content type.</summary>
    public string? ContentType { get; init; } = "application/json";

    /// <summary>Drop (and count as evicted) when not sent by then; null = only <see cref="OutboxOptions.MaxAge"/> applies.</summary>
    public DateTimeOffset? ExpiresUtc { get; init; }
}

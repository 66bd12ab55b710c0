namespace XrfEdge.Messaging.Outbox;

/// <summary>A stored row as read for sending.</summary>
/// <param name="Id">Row id = send order.</param>
/// <param name="MsgId">Message id (UUIDv7, de-duplication key).</param>
/// <param name="Kind">Kind.</param>
/// <param name="Topic">Topic.</param>
/// <param name="Qos">QoS.</param>
/// <param name="Retain">Retain flag.</param>
/// <param name="ContentType">v5 content type.</param>
/// <param name="Payload">Payload bytes.</param>
/// <param name="CreatedUtc">Enqueue time.</param>
/// <param name="Attempts">Refused publishes so far.</param>
public sealed record OutboxRow(long Id, Guid MsgId, OutboxKind Kind, string Topic, int Qos, bool Retain, string? ContentType, byte[] Payload, DateTimeOffset CreatedUtc, int Attempts);

namespace XrfEdge.Messaging.Transport;

/// <summary>The message the broker publishes for us when the link dies without a DISCONNECT.</summary>
/// <param name="Topic">Will topic, e.g. <c>xrf/v1/acme/XRF-0042/availability</c>.</param>
/// <param name="Payload">Will payload bytes.</param>
/// <param name="Qos">0 or 1.</param>
/// <param name="Retain">Whether the broker retains the will.</param>
public sealed record MqttLastWill(string Topic, ReadOnlyMemory<byte> Payload, int Qos, bool Retain);

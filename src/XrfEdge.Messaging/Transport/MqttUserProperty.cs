namespace XrfEdge.Messaging.Transport;

/// <summary>An MQTT 5 user property (name/value pair; repeatable, order kept).</summary>
/// <param name="Name">Property name.</param>
/// <param name="Value">Property value.</param>
public sealed record MqttUserProperty(string Name, string Value);

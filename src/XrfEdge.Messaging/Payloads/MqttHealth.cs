namespace XrfEdge.Messaging.Payloads;

/// <summary>MQTT link figures for <c>health</c>.</summary>
/// <param name="Connected">Link up now.</param>
/// <param name="ReconnectsTotal">Reconnects since start.</param>
/// <param name="LastDisconnectCode">libmosquitto rc of the last unexpected disconnect (7 connection lost, 19 keep-alive), or the reason code (0x80 and above, e.g. 0x8E session taken over, or 0 for a normal disconnection) of an MQTT 5 DISCONNECT from the broker; null when none.</param>
/// <param name="Protocol">"5" or "3.1.1".</param>
/// <param name="LastRefusal">The broker's last CONNACK refusal with its reason (bad credentials, not authorised, …), or null.</param>
public sealed record MqttHealth(bool Connected, long ReconnectsTotal, int? LastDisconnectCode, string Protocol, string? LastRefusal = null);

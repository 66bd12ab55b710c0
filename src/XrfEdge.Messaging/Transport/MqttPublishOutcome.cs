namespace XrfEdge.Messaging.Transport;

/// <summary>The broker's answer to one publish.</summary>
/// <param name="ReasonCode">PUBACK reason code (v5; 0 on 3.1.1 and for QoS 0). 0x10 = accepted, no subscribers; ≥ 0x80 = refused (0x87 not authorised).</param>
/// <param name="Description">Library text for the reason code.</param>
public sealed record MqttPublishOutcome(int ReasonCode, string Description)
{
    /// <summary>True when the broker took the message (reason &lt; 0x80, MQTT 5 §3.4.2.1).</summary>
    public bool Accepted => ReasonCode < 0x80;
}

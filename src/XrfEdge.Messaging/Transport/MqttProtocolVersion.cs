namespace XrfEdge.Messaging.Transport;

/// <summary>Which MQTT protocol version the transport speaks.</summary>
public enum MqttProtocolVersion
{
    /// <summary>MQTT 5; falls back to 3.1.1 when the broker refuses version 5 in its CONNACK.</summary>
    Auto = 0,

    /// <summary>MQTT 5 only (response topic, correlation data, PUBACK reason codes).</summary>
    V5 = 5,

    /// <summary>MQTT 3.1.1 only; commands then carry <c>reply_to</c>/<c>correlation_id</c> in the JSON payload.</summary>
    V311 = 4,
}

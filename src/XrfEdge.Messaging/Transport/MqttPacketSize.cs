using System.Text;

namespace XrfEdge.Messaging.Transport;

/// <summary>
/// The size on the wire of the PUBLISH packet that <see cref="MosquittoTransport"/> sends for a message: what a broker's
/// Maximum Packet Size (MQTT 5.0 §3.2.2.3.6, "the total number of bytes in an MQTT Control Packet") and mosquitto's
/// <c>max_packet_size</c> count.
/// </summary>
/// <remarks>
/// <code>
/// PUBLISH (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3)
/// +--------+----------------------+------------------------------------------------------------------------+
/// | byte 0 | 1–4 bytes            | remaining length bytes                                                 |
/// | 0x3?   | remaining length     | topic length (2, big-endian) | topic (UTF-8)                           |
/// | type,  | (Variable Byte       | packet id (2; QoS 1 and 2 only)                                        |
/// | flags  |  Integer, §1.5.5)    | v5 only: properties length (Variable Byte Integer) | properties        |
/// |        |                      | payload (the rest)                                                     |
/// +--------+----------------------+------------------------------------------------------------------------+
/// v5 properties (§3.3.2.3), those <see cref="MosquittoTransport"/> sends, each a 1-byte identifier then its value:
///   0x02 Message Expiry Interval  4-byte integer
///   0x03 Content Type             UTF-8 string (2-byte length + bytes)
///   0x08 Response Topic           UTF-8 string
///   0x09 Correlation Data         binary data (2-byte length + bytes)
///   0x26 User Property            UTF-8 string pair (two strings), once per property
/// </code>
/// </remarks>
internal static class MqttPacketSize
{
    /// <summary>Largest value a Variable Byte Integer can hold (MQTT 5.0 §1.5.5): 268,435,455 = 256 MiB − 1.</summary>
    public const int MaximumVariableByteInteger = 268_435_455;

    /// <summary>
    /// Bytes of <paramref name="value"/> as a Variable Byte Integer (MQTT 5.0 §1.5.5, 3.1.1 §2.2.3): 1 up to 127, 2 up to
    /// 16,383, 3 up to 2,097,151, 4 up to 268,435,455; 5 or more for larger values, which MQTT cannot encode.
    /// </summary>
    public static int VariableByteIntegerLength(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        var bytes = 1;
        for (var rest = value >> 7; rest > 0; rest >>= 7)
        {
            bytes++;
        }

        return bytes;
    }

    /// <summary>
    /// Total bytes of a PUBLISH packet: fixed header (1) + remaining-length field (1–4) + topic length (2) + topic +
    /// packet id (2, QoS &gt; 0) + for MQTT 5 the properties length field and the properties + payload.
    /// </summary>
    /// <param name="topicBytes">The topic's length in UTF-8 bytes.</param>
    /// <param name="payloadBytes">The payload's length in bytes.</param>
    /// <param name="qos">0, 1 or 2.</param>
    /// <param name="propertiesBytes">MQTT 5: the properties' length without their length field (0 for none); null for 3.1.1, which has no property field.</param>
    public static long Publish(int topicBytes, long payloadBytes, int qos, long? propertiesBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(topicBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadBytes);
        var remaining = 2L + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
        if (propertiesBytes is { } properties)
        {
            remaining += VariableByteIntegerLength(properties) + properties;
        }

        return 1 + VariableByteIntegerLength(remaining) + remaining;
    }

    /// <summary>Total bytes of the PUBLISH packet for <paramref name="message"/>, with its properties when <paramref name="v5"/>.</summary>
    public static long Publish(MqttOutboundMessage message, bool v5)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Publish(Encoding.UTF8.GetByteCount(message.Topic), message.Payload.Length, message.Qos, v5 ? Properties(message) : null);
    }

    /// <summary>
    /// Bytes of the MQTT 5 properties <see cref="MosquittoTransport"/> sends for <paramref name="message"/>, without
    /// their length field (MQTT 5.0 §3.3.2.3; identifiers below 128 take one byte).
    /// </summary>
    public static long Properties(MqttOutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        long bytes = 0;
        if (message.ContentType is { } contentType)
        {
            bytes += 1 + 2 + Encoding.UTF8.GetByteCount(contentType);
        }

        if (message.ResponseTopic is { } responseTopic)
        {
            bytes += 1 + 2 + Encoding.UTF8.GetByteCount(responseTopic);
        }

        if (message.CorrelationData is { } correlation)
        {
            bytes += 1 + 2 + correlation.Length;
        }

        if (message.MessageExpiry is not null)
        {
            bytes += 1 + 4;
        }

        foreach (var user in message.UserProperties)
        {
            bytes += 1 + 2 + Encoding.UTF8.GetByteCount(user.Name) + 2 + Encoding.UTF8.GetByteCount(user.Value);
        }

        return bytes;
    }
}

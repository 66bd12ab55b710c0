using System.Text;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The PUBLISH size that Mqtt:MaxPacketBytes and the broker's Maximum Packet Size are compared with: the Variable Byte
/// Integer boundaries of MQTT 5.0 §1.5.5 (127/128, 16383/16384, 2097151/2097152, 268435455), packets written out byte by
/// byte, and the bytes libmosquitto really sends.
/// </summary>
public sealed class MqttPacketSizeTests
{
    [Theory]
    [InlineData(0L, 1)]
    [InlineData(127L, 1)]
    [InlineData(128L, 2)]
    [InlineData(16_383L, 2)]
    [InlineData(16_384L, 3)]
    [InlineData(2_097_151L, 3)]
    [InlineData(2_097_152L, 4)]
    [InlineData(268_435_455L, 4)] // MQTT's largest encodable value
    [InlineData(268_435_456L, 5)] // not encodable: larger than any limit, so always refused
    public void VariableByteIntegerLength_AtEachBoundary_MatchesTheSpecTable(long value, int expected)
    {
        // MQTT 5.0 §1.5.5's table: 1 byte 0–127, 2 bytes 128–16,383, 3 bytes 16,384–2,097,151, 4 bytes up to 268,435,455.
        Assert.Equal(expected, MqttPacketSize.VariableByteIntegerLength(value));
    }

    [Theory]
    // topic "t" (1 byte), QoS 0, 3.1.1: remaining length = 2 + 1 + payload; total = 1 + its length field + remaining.
    [InlineData(124L, 129L)]             // remaining 127: 1-byte length field
    [InlineData(125L, 131L)]             // remaining 128: 2-byte length field
    [InlineData(16_380L, 16_386L)]       // remaining 16,383
    [InlineData(16_381L, 16_388L)]       // remaining 16,384: 3 bytes
    [InlineData(2_097_148L, 2_097_155L)] // remaining 2,097,151
    [InlineData(2_097_149L, 2_097_157L)] // remaining 2,097,152: 4 bytes
    [InlineData(268_435_452L, 268_435_460L)] // remaining 268,435,455: the largest PUBLISH MQTT allows
    public void Publish_RemainingLengthAtEachBoundary_CountsTheLengthFieldItNeeds(long payloadBytes, long expected)
    {
        Assert.Equal(expected, MqttPacketSize.Publish(topicBytes: 1, payloadBytes, qos: 0, propertiesBytes: null));
    }

    [Fact]
    public void Publish_Qos1_AddsTheTwoBytePacketId()
    {
        // 2 + 1 + 2 + 122 = 127: still a 1-byte length field.
        Assert.Equal(129, MqttPacketSize.Publish(1, 122, qos: 1, propertiesBytes: null));
        Assert.Equal(131, MqttPacketSize.Publish(1, 123, qos: 1, propertiesBytes: null));
    }

    [Fact]
    public void Publish_V5PropertiesAtTheirLengthFieldBoundary_CountsItsSecondByte()
    {
        // Properties of 127 bytes take a 1-byte length field, 128 a 2-byte one (a Variable Byte Integer too, §2.2.2.1).
        Assert.Equal(6, MqttPacketSize.Publish(1, 0, 0, propertiesBytes: 0));      // 0x30 0x04 0x00 0x01 't' 0x00
        Assert.Equal(134, MqttPacketSize.Publish(1, 0, 0, propertiesBytes: 127));  // remaining 2 + 1 + 1 + 127 = 131
        Assert.Equal(136, MqttPacketSize.Publish(1, 0, 0, propertiesBytes: 128));  // remaining 2 + 1 + 2 + 128 = 133
    }

    [Fact]
    public void Publish_Mqtt311Qos1Example_EqualsTheBytesWrittenOut()
    {
        // QoS 1 PUBLISH of "hi" to "a/b" with packet id 10 (MQTT 3.1.1 §3.3): fixed header, remaining length 9, topic
        // length and topic, packet id, payload.
        byte[] wire = [0x32, 0x09, 0x00, 0x03, (byte)'a', (byte)'/', (byte)'b', 0x00, 0x0A, (byte)'h', (byte)'i'];
        var message = new MqttOutboundMessage { Topic = "a/b", Payload = "hi"u8.ToArray(), Qos = 1, ContentType = "ignored on 3.1.1" };

        Assert.Equal(wire.Length, MqttPacketSize.Publish(message, v5: false));
    }

    [Fact]
    public void Publish_Mqtt5ExampleWithEveryProperty_EqualsTheBytesWrittenOut()
    {
        // QoS 0 PUBLISH of "x" to "t" (MQTT 5.0 §3.3) with one of each property the transport sends (§3.3.2.3).
        byte[] properties =
        [
            0x02, 0x00, 0x00, 0x00, 0x3C,                   // Message Expiry Interval 60 s
            0x03, 0x00, 0x01, (byte)'a',                    // Content Type "a"
            0x08, 0x00, 0x01, (byte)'r',                    // Response Topic "r"
            0x09, 0x00, 0x02, 0xAB, 0xCD,                   // Correlation Data AB CD
            0x26, 0x00, 0x01, (byte)'k', 0x00, 0x01, (byte)'v', // User Property k=v
        ];
        byte[] wire = [0x30, (byte)(3 + 1 + properties.Length + 1), 0x00, 0x01, (byte)'t', (byte)properties.Length, .. properties, (byte)'x'];
        var message = new MqttOutboundMessage
        {
            Topic = "t",
            Payload = "x"u8.ToArray(),
            Qos = 0,
            MessageExpiry = TimeSpan.FromSeconds(60),
            ContentType = "a",
            ResponseTopic = "r",
            CorrelationData = new byte[] { 0xAB, 0xCD },
            UserProperties = [new MqttUserProperty("k", "v")],
        };

        Assert.Equal(properties.Length, MqttPacketSize.Properties(message));
        Assert.Equal(wire.Length, MqttPacketSize.Publish(message, v5: true));
    }

    [Fact]
    public void Publish_NonAsciiTopicAndProperty_CountsUtf8BytesNotCharacters()
    {
        // "Gerät" is 5 characters and 6 UTF-8 bytes (ä = C3 A4); MQTT strings are UTF-8 (§1.5.4).
        var message = new MqttOutboundMessage { Topic = "Gerät", Payload = Array.Empty<byte>(), Qos = 0, UserProperties = [new MqttUserProperty("ä", "ö")] };

        Assert.Equal(1 + 1 + 2 + 6 + 1 + (1 + 2 + 2 + 2 + 2) + 0, MqttPacketSize.Publish(message, v5: true));
    }

    [Fact]
    public async Task Publish_WhatLibmosquittoSendsAcrossTheLengthFieldBoundaries_EqualsTheComputedSize()
    {
        // The detection's own topic and properties (content type, msg_id, historical), QoS 1, MQTT 5; payloads chosen
        // so that the remaining length is 127, 128, 16,383 and 16,384, where its length field grows.
        using var broker = new FakeMqttBroker();
        var options = Program.ChildTransport(broker.Port, "size-probe");
        options.Protocol = MqttProtocolVersion.V5;
        await using var transport = new MosquittoTransport(options);
        transport.Start();
        using var connected = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await transport.WaitConnectedAsync(connected.Token);

        MqttOutboundMessage Message(int payloadBytes) => new()
        {
            Topic = "xrf/v1/acme/XRF-0042/detections",
            Payload = Encoding.ASCII.GetBytes(new string('d', payloadBytes)),
            Qos = 1,
            ContentType = "application/json",
            UserProperties = [new MqttUserProperty("msg_id", Guid.NewGuid().ToString()), new MqttUserProperty("historical", "false")],
        };

        // With no payload the packet is under 128 bytes, so its remaining length is its size less 2.
        var overhead = (int)MqttPacketSize.Publish(Message(0), v5: true) - 2;
        Assert.InRange(overhead, 1, 126);
        var sent = new List<long>();
        foreach (var remaining in new[] { 127, 128, 16_383, 16_384 })
        {
            var message = Message(remaining - overhead);
            sent.Add(MqttPacketSize.Publish(message, v5: true));
            using var acknowledged = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.True((await transport.PublishAsync(message, acknowledged.Token)).Accepted);
        }

        Assert.Equal([129L, 131L, 16_386L, 16_388L], sent);
        Assert.Equal(sent, broker.Publishes.Select(p => (long)p.TotalBytes));
    }
}

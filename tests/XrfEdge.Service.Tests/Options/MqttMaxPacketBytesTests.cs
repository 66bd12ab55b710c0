using XrfEdge.Service.Options;

namespace XrfEdge.Service.Tests.Options;

/// <summary>
/// <c>Mqtt:MaxPacketBytes</c>: optional; when set, 1024 (a detection is 1–3 KB) to 268435455 (the largest MQTT remaining
/// length, MQTT 5.0 §1.5.5), otherwise the service stops at start (exit 78) naming the key, the value and the rule.
/// </summary>
public sealed class MqttMaxPacketBytesTests : IDisposable
{
    private static readonly Dictionary<string, string?> Environment = MinimalProfile.Environment;

    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-maxpacket-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void MaxPacketBytes_Unset_NoLimitOfOurOwn()
    {
        Assert.Null(ProfileLoader.Load(Minimal(), [], Environment).Mqtt.MaxPacketBytes);
    }

    [Theory]
    [InlineData(1024)]        // the lowest accepted
    [InlineData(131_072)]     // 128 KB, the limit of several cloud brokers (docs/mqtt.md "Payload size limits")
    [InlineData(268_435_455)] // MQTT's maximum
    public void MaxPacketBytes_WithinRange_Loaded(int bytes)
    {
        var settings = ProfileLoader.Load(Minimal(), [$"Mqtt:MaxPacketBytes={bytes}"], Environment);

        Assert.Equal(bytes, settings.Mqtt.MaxPacketBytes);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1023")]
    [InlineData("268435456")]
    public void MaxPacketBytes_OutOfRange_RefusedNamingKeyValueAndRule(string value)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Minimal(), [$"Mqtt:MaxPacketBytes={value}"], Environment));

        Assert.StartsWith($"Mqtt:MaxPacketBytes = {value}: must be between 1024", Assert.Single(error.Problems), StringComparison.Ordinal);
        Assert.Contains("and 268435455", error.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void MaxPacketBytes_NotANumber_RefusedNamingTheKey()
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Minimal(), ["Mqtt:MaxPacketBytes=128k"], Environment));

        Assert.StartsWith("Mqtt:MaxPacketBytes = '128k'", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private string Minimal() => MinimalProfile.Write(_folder);
}

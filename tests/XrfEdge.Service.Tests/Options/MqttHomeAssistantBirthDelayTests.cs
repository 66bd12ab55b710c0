using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Options;

/// <summary>
/// <c>Mqtt:HomeAssistantBirthDelaySeconds</c> (since 2026-11-24): the longest random delay before the discovery config is
/// re-sent on Home Assistant's birth, handed to <c>PublisherOptions.HomeAssistantBirthDelayMax</c>; 0 … 60 s (the
/// publisher's own range), 5 by default (the publisher's default), otherwise the service stops at start (exit 78)
/// naming the key, the value and the rule.
/// </summary>
public sealed class MqttHomeAssistantBirthDelayTests : IDisposable
{
    private static readonly Dictionary<string, string?> Environment = MinimalProfile.Environment;

    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-birthdelay-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void HomeAssistantBirthDelaySeconds_Unset_ThePublishersDefaultOf5s()
    {
        var settings = ProfileLoader.Load(Minimal(), [], Environment);

        Assert.Equal(TimeSpan.FromSeconds(5), MqttResultPublisher.PublisherOptionsFor(settings).HomeAssistantBirthDelayMax);
    }

    [Theory]
    [InlineData("0", 0)]     // at once, as before 2026-11-24
    [InlineData("2.5", 2.5)] // fractions are kept
    [InlineData("60", 60)]   // the publisher's maximum
    public void HomeAssistantBirthDelaySeconds_WithinRange_HandedToThePublisher(string value, double seconds)
    {
        var settings = ProfileLoader.Load(Minimal(), [$"Mqtt:HomeAssistantBirthDelaySeconds={value}"], Environment);

        Assert.Equal(TimeSpan.FromSeconds(seconds), MqttResultPublisher.PublisherOptionsFor(settings).HomeAssistantBirthDelayMax);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("60.5")]
    public void HomeAssistantBirthDelaySeconds_OutOfRange_RefusedNamingKeyValueAndRule(string value)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Minimal(), [$"Mqtt:HomeAssistantBirthDelaySeconds={value}"], Environment));

        Assert.StartsWith($"Mqtt:HomeAssistantBirthDelaySeconds = {value}: must be between 0", Assert.Single(error.Problems), StringComparison.Ordinal);
        Assert.Contains("and 60", error.Problems[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5s")]
    [InlineData("NaN")] // refused by the loader's number check, before the range
    public void HomeAssistantBirthDelaySeconds_NotANumber_RefusedNamingTheKey(string value)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Minimal(), [$"Mqtt:HomeAssistantBirthDelaySeconds={value}"], Environment));

        Assert.StartsWith($"Mqtt:HomeAssistantBirthDelaySeconds = '{value}'", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private string Minimal() => MinimalProfile.Write(_folder);
}

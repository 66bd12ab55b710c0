using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Options;

/// <summary>
/// <c>Mqtt:DisconnectTimeoutSeconds</c> (since 2026-11-25): how long a stop waits for the DISCONNECT to be written before
/// the transport shuts the socket down, handed to <c>MqttTransportOptions.DisconnectTimeout</c> and counted in the stop's
/// reserve after the drain; 0.1 … 30 s, 2 by default (the transport's default), otherwise exit 78 naming key, value and rule.
/// </summary>
public sealed class MqttDisconnectTimeoutTests : IDisposable
{
    private static readonly Dictionary<string, string?> Environment = MinimalProfile.Environment;

    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-disconnect-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void DisconnectTimeoutSeconds_Unset_TheTransportsDefaultAndA7sReserve()
    {
        var settings = ProfileLoader.Load(Minimal(), [], Environment);

        Assert.Equal(XrfEdge.Messaging.Transport.MqttTransportOptions.DefaultDisconnectTimeout, MqttResultPublisher.TransportOptionsFor(settings).DisconnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), PublishingWorker.StopReserveFor(settings)); // the reserve of 2026-11-24, unchanged
    }

    [Theory]
    [InlineData("0.1", 0.1)]
    [InlineData("10", 10)]
    [InlineData("30", 30)]
    public void DisconnectTimeoutSeconds_WithinRange_HandedToTheTransportAndCountedInTheStopReserve(string value, double seconds)
    {
        var settings = ProfileLoader.Load(Minimal(), [$"Mqtt:DisconnectTimeoutSeconds={value}"], Environment);

        Assert.Equal(TimeSpan.FromSeconds(seconds), MqttResultPublisher.TransportOptionsFor(settings).DisconnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5 + seconds), PublishingWorker.StopReserveFor(settings));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("30.5")]
    public void DisconnectTimeoutSeconds_OutOfRange_RefusedNamingKeyValueAndRule(string value)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Minimal(), [$"Mqtt:DisconnectTimeoutSeconds={value}"], Environment));

        Assert.StartsWith($"Mqtt:DisconnectTimeoutSeconds = {value}: must be between 0.1 and 30", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private string Minimal() => MinimalProfile.Write(_folder);
}

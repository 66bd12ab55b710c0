using System.Text;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// Home Assistant's birth (<c>homeassistant/status</c> = <c>online</c>) is answered after a random delay (since
/// 2026-11-24; before, at once, so a fleet of 100 answered one birth at the same instant with about 140 KB); a connect is
/// answered at once. A hand-moved clock with timers, a fake transport: no broker, no sleeps.
/// </summary>
public sealed class DiscoveryBirthDelayTests : IDisposable
{
    private static readonly TopicTree Topics = new("acme", "XRF-0042");
    private static readonly HomeAssistantDiscovery Discovery = new(Topics);
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    // Log event id (src/XrfEdge.Messaging/Log.cs).
    private const int DiscoveryDelayedEvent = 7064;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-birth-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SqliteOutbox _outbox;
    private readonly FakeTimerTimeProvider _clock = new(Start);
    private readonly FakeMqttTransport _transport = new();
    private readonly MemoryLoggerFactory _log = new();

    public DiscoveryBirthDelayTests()
    {
        Directory.CreateDirectory(_directory);
        _outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
    }

    public void Dispose()
    {
        _outbox.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private int ConfigsSent => _transport.Handed.Count(m => m.Topic == Discovery.ConfigTopic);

    /// <summary>A publisher whose birth delay is <paramref name="fraction"/> of a 10-s maximum (the random number it draws).</summary>
    private DetectionPublisher Publisher(double fraction) => new(
        _transport,
        _outbox,
        Topics,
        new PublisherOptions
        {
            HomeAssistantDiscovery = true,
            HealthInterval = TimeSpan.FromHours(1),
            HomeAssistantBirthDelayMax = TimeSpan.FromSeconds(10),
            BirthDelayRandom = () => fraction,
        },
        loggerFactory: _log,
        timeProvider: _clock);

    private void Birth() => _transport.Receive(Discovery.StatusTopic, "online"u8.ToArray());

    /// <summary>
    /// A ping after the messages before it: the routing loop handles messages in order, so once its reply is handed over
    /// (it goes through the outbox) everything received before it has been handled.
    /// </summary>
    private async Task RoutedAsync(string marker)
    {
        _transport.Receive(Topics.Command("ping"), Encoding.UTF8.GetBytes($$"""{"command_id":"{{marker}}"}"""));
        await Waiting.UntilAsync(() => _transport.Handed.Any(m => m.Topic == Topics.DefaultResponse && Encoding.UTF8.GetString(m.Payload.Span).Contains(marker, StringComparison.Ordinal)), $"the reply to ping '{marker}'");
    }

    [Fact]
    public async Task Birth_TwiceWithinTheRandomDelay_DiscoverySentOnceWhenTheDelayEnds()
    {
        await using var publisher = Publisher(0.25); // 0.25 × 10 s = 2.5 s
        await publisher.StartAsync(CancellationToken.None);
        Birth();
        Birth();
        await RoutedAsync("after-two-births");

        // The wait runs on a task of its own: the clock moves only once it is set (its log), or a loaded machine let the
        // test move the clock first and the wait began 2.4 s late (found 2026-11-24, second review, under load).
        await Waiting.UntilAsync(() => _log.Count(DiscoveryDelayedEvent) == 1, "the birth's delay set");
        Assert.Equal(0, ConfigsSent);

        _clock.Advance(TimeSpan.FromSeconds(2.4));
        Assert.Equal(0, ConfigsSent);
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        await Waiting.UntilAsync(() => ConfigsSent == 1, "the config after 2.5 s");

        // The second birth was answered by the first's send: no second wait was set, and none comes later.
        _clock.Advance(TimeSpan.FromSeconds(10));
        await RoutedAsync("after-the-delay");
        Assert.Equal(1, _log.Count(DiscoveryDelayedEvent));
        Assert.Equal(1, ConfigsSent);

        // A birth after the send is a new one (Home Assistant restarted again): answered again, after its own delay.
        Birth();
        await Waiting.UntilAsync(() => _log.Count(DiscoveryDelayedEvent) == 2, "the next birth's delay");
        _clock.Advance(TimeSpan.FromSeconds(2.5));
        await Waiting.UntilAsync(() => ConfigsSent == 2, "the config for the next birth");
        await publisher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Connect_WhileABirthsDelayRuns_DiscoverySentAtOnceAndNotAgainAfterTheDelay()
    {
        // A broker restart brings both: Home Assistant's birth and every instrument's reconnect. Until 2026-11-24 (second
        // review) the birth's delayed send followed the connect's, so each instrument sent its config twice.
        await using var publisher = Publisher(0.9); // 9 s
        await publisher.StartAsync(CancellationToken.None);
        Birth();
        await Waiting.UntilAsync(() => _log.Count(DiscoveryDelayedEvent) == 1, "the birth's delay set");
        Assert.Equal(0, ConfigsSent);

        // A (re)connect is answered at once, without moving the clock: the broker may have lost the retained config.
        _transport.RaiseStateChanged(MqttConnectionState.Connected);
        await Waiting.UntilAsync(() => ConfigsSent == 1, "the config on connect");

        // The connect's config came after the birth, so Home Assistant has it: the birth's wait ends without a send.
        _clock.Advance(TimeSpan.FromSeconds(9));
        await RoutedAsync("after-the-delay");
        Assert.Equal(1, ConfigsSent);

        // A birth after that is a new one, answered after its own delay.
        Birth();
        await Waiting.UntilAsync(() => _log.Count(DiscoveryDelayedEvent) == 2, "the next birth's delay");
        _clock.Advance(TimeSpan.FromSeconds(9));
        await Waiting.UntilAsync(() => ConfigsSent == 2, "the config for the next birth");
        await publisher.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(61)]
    public void Constructor_BirthDelayOutsideItsRange_RefusedNamingTheOption(double seconds)
    {
        var options = new PublisherOptions { HomeAssistantBirthDelayMax = TimeSpan.FromSeconds(seconds) };
        var error = Assert.Throws<ArgumentException>(() => new DetectionPublisher(_transport, _outbox, Topics, options));
        Assert.Contains("HomeAssistantBirthDelayMax", error.Message, StringComparison.Ordinal);
    }
}

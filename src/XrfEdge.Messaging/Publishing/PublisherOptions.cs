namespace XrfEdge.Messaging.Publishing;

/// <summary>Publishing settings (configuration section <c>Publishing</c>).</summary>
public sealed class PublisherOptions
{
    /// <summary>Outbox rows handed to the transport without PUBACK; 1–100, 10 by default (≤ the transport's in-flight window).</summary>
    public int Window { get; set; } = 10;

    /// <summary>Period of the <c>health</c> message; 60 s by default (reference §1.4: every 30–60 s).</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Publish Home Assistant MQTT discovery (device-based) for the instrument.</summary>
    public bool HomeAssistantDiscovery { get; set; }

    /// <summary>Home Assistant discovery prefix; "homeassistant" by default.</summary>
    public string HomeAssistantPrefix { get; set; } = "homeassistant";

    /// <summary>
    /// Longest random delay before the discovery config is re-sent when Home Assistant comes online
    /// (<c>{prefix}/status</c> = <c>online</c>); 0–60 s, 5 s by default, zero for at once. Each birth waits a uniformly random
    /// time up to this, so a fleet answers one birth spread over it, not at the same instant (Home Assistant's MQTT
    /// discovery docs recommend a random delay); a second birth during the wait sends once. Since 2026-11-24; before,
    /// the config was re-sent at once. On connect it is always sent at once.
    /// </summary>
    public TimeSpan HomeAssistantBirthDelayMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A number in [0, 1) for the birth delay (<see cref="HomeAssistantBirthDelayMax"/>); tests hand in their own.</summary>
    internal Func<double> BirthDelayRandom { get; set; } = Random.Shared.NextDouble;

    /// <summary>
    /// How long after the first connect the retained latest detection waits for the copy the broker already retains
    /// (handed over on the subscription) before publishing without it: 2 s. On a live link it comes within milliseconds;
    /// none comes when nothing is retained yet.
    /// </summary>
    internal TimeSpan LatestDetectionSeedWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Also store each detection as a Sparkplug B NDATA row (sent by a <see cref="Adapters.SparkplugNode"/>).</summary>
    public bool Sparkplug { get; set; }
}

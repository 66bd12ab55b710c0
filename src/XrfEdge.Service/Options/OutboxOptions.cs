namespace XrfEdge.Service.Options;

/// <summary>The <c>Outbox</c> section: the durable SQLite store results are written to before they are published.</summary>
public sealed class OutboxOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Outbox";

    /// <summary>SQLite database file. Under systemd use <c>${STATE_DIRECTORY}/outbox.db</c> (/var/lib/xrfedge).</summary>
    public string Path { get; set; } = "outbox.db";

    /// <summary>Most rows kept while offline (1,000 … 10,000,000); the oldest are evicted beyond it and counted.</summary>
    public int MaxRows { get; set; } = 100_000;

    /// <summary>Un-acknowledged messages handed to the MQTT library at once (1 … 1000).</summary>
    public int InflightWindow { get; set; } = 32;
}

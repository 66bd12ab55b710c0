namespace XrfEdge.Service.Options;

/// <summary>The <c>Outbox</c> section: the durable SQLite store results are written to before they are published.</summary>
public sealed class OutboxOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Outbox";

    /// <summary>The default <see cref="Path"/>: a file name, placed in systemd's <c>$STATE_DIRECTORY</c> when that is set.</summary>
    public const string DefaultPath = "outbox.db";

    /// <summary>
    /// SQLite database file. Under systemd use <c>${STATE_DIRECTORY}/outbox.db</c> (/var/lib/xrfedge); the default
    /// (<see cref="DefaultPath"/>) goes there too when systemd sets <c>$STATE_DIRECTORY</c>, and next to the profile
    /// otherwise (ProfileLoader).
    /// </summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>Most payload bytes kept while offline, in MiB (1 … 100,000); beyond it the oldest rows are evicted and counted (about 2 KiB per detection message).</summary>
    public int MaxMegabytes { get; set; } = 256;

    /// <summary>
    /// Most bytes of stored results (detection + spectrum copies kept for <c>get_spectrum</c> and audits) in MiB
    /// (1 … 100,000); the oldest are dropped beyond it, the newest always kept. Separate from <see cref="MaxMegabytes"/>.
    /// </summary>
    public int ResultRetentionMegabytes { get; set; } = 96;

    /// <summary>
    /// Rows older than this many days are dropped (1 … 3650): older by the wall clock and by the outbox's run clock (the
    /// time the service has had it open), so a clock corrected by NTP or time switched off drops nothing by itself.
    /// </summary>
    public int MaxAgeDays { get; set; } = 30;

    /// <summary>Un-acknowledged messages handed to the MQTT library at once (1 … 1000).</summary>
    public int InflightWindow { get; set; } = 10;
}

namespace XrfEdge.Service.Options;

/// <summary>The <c>Health</c> section: health publication and the systemd watchdog's liveness rule.</summary>
public sealed class HealthOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Health";

    /// <summary>Seconds between health messages (1 … 3600, ProfileValidator; the reference recommends 30–60).</summary>
    public int IntervalSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds a pipeline stage may stay busy beyond its expected time (the preset for acquisition) before it counts
    /// as stalled and the systemd watchdog is no longer fed (1 … 600). Keep it below the unit's <c>WatchdogSec=</c>.
    /// </summary>
    public int StallSeconds { get; set; } = 20;

    /// <summary>Seconds the host waits for the pipeline to finish on SIGTERM (1 … 120); keep it below <c>TimeoutStopSec=</c> (45 s).</summary>
    public int StopTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Once READY, give back start-up memory: a compacting full GC, glibc <c>malloc_trim</c>, and
    /// <c>madvise(MADV_PAGEOUT)</c> on the read-only file mappings only start-up touched (about 25 MB of RSS with the
    /// shipped model, docs/PERFORMANCE.md). The first measurement may then page a little code back in. Default true.
    /// </summary>
    public bool TrimMemoryAfterStartup { get; set; } = true;
}

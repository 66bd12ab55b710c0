namespace XrfEdge.Messaging.Outbox;

/// <summary>What an outbox row carries; also its eviction priority (lower value = evicted first when the outbox is full).</summary>
public enum OutboxKind
{
    /// <summary>Down-sampled health history; cheapest to lose, evicted first.</summary>
    HealthHistory = 0,

    /// <summary>Command responses; stale quickly, evicted second.</summary>
    CommandResponse = 1,

    /// <summary>Raw spectra published on request; the result itself survives in the results table.</summary>
    Spectrum = 2,

    /// <summary>Sparkplug NDATA copies of detections (QoS 0 by the Sparkplug spec).</summary>
    SparkplugData = 3,

    /// <summary>Detection results; evicted last.</summary>
    Detection = 4,
}

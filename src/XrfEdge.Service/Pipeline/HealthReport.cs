namespace XrfEdge.Service.Pipeline;

/// <summary>A health snapshot (published every Health:IntervalSeconds, latest value only).</summary>
internal sealed record HealthReport(
    DateTimeOffset Timestamp,
    TimeSpan Uptime,
    string BootId,
    long MeasurementsCompleted,
    long MeasurementsAborted,
    long MeasurementsFailed,
    long OutboxPending,
    bool MqttConnected,
    int SpectraQueued,
    int ResultsQueued,
    long WorkingSetBytes,
    bool PipelineAlive);

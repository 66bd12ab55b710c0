namespace XrfEdge.Service.Pipeline;

/// <summary>How a measurement ended.</summary>
internal enum MeasurementOutcome
{
    /// <summary>Acquired and identified.</summary>
    Completed,

    /// <summary>Stopped before the preset ended (interlock opened, stop command, service stopping); recorded, not identified.</summary>
    Aborted,

    /// <summary>The acquisition or the analysis failed; the reason says why.</summary>
    Failed,
}

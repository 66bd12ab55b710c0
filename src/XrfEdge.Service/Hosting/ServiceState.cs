namespace XrfEdge.Service.Hosting;

/// <summary>What the instrument is doing (status topic, STATUS= line, LEDs).</summary>
internal enum ServiceState
{
    /// <summary>Loading the model, opening the outbox and the MCA.</summary>
    Starting,

    /// <summary>Ready for a measurement.</summary>
    Idle,

    /// <summary>A measurement or scan is running (X-ray warning on).</summary>
    Measuring,

    /// <summary>The last measurement failed (MCA error, analysis error); cleared by the next success.</summary>
    Fault,

    /// <summary>Shutting down.</summary>
    Stopping,
}

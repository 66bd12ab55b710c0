namespace XrfEdge.Service.Options;

/// <summary>How measurements are started (<c>Acquisition:Mode</c>).</summary>
public enum MeasurementMode
{
    /// <summary>One preset per start request: the trigger input or the MQTT <c>start</c> command.</summary>
    Triggered,

    /// <summary>Back-to-back presets while the service runs and the interlock is closed.</summary>
    Continuous,

    /// <summary>Macro-XRF scan: <c>Acquisition:ScanPoints</c> short spectra per scan, analysed in batches, with a per-scan summary.</summary>
    Scan,
}

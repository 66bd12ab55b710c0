namespace XrfEdge.Service.Options;

/// <summary>Where spectra come from (<c>Acquisition:Source</c>).</summary>
public enum AcquisitionSource
{
    /// <summary>An Amptek DP5-protocol MCA on a serial device (<c>Acquisition:Device</c>), real or the simulator on a pty.</summary>
    Mca,

    /// <summary>Spectra replayed from a <c>.jsonl</c> file (<c>Acquisition:ReplayPath</c>), for demos and benchmarks.</summary>
    Replay,
}

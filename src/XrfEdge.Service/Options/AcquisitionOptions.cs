namespace XrfEdge.Service.Options;

/// <summary>The <c>Acquisition</c> section: where spectra come from and how measurements are run.</summary>
public sealed class AcquisitionOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Acquisition";

    /// <summary>Spectrum source.</summary>
    public AcquisitionSource Source { get; set; } = AcquisitionSource.Mca;

    /// <summary>Serial device of the MCA (for example <c>/dev/ttyUSB0</c>, <c>/dev/serial0</c>, or the simulator's pty link). Required for <see cref="AcquisitionSource.Mca"/>.</summary>
    public string? Device { get; set; }

    /// <summary>Serial speed in baud; the DP5 RS-232 port runs at 115200 (DP5 Programmer's Guide, "RS232 interface").</summary>
    public int BaudRate { get; set; } = 115200;

    /// <summary>Measurement mode.</summary>
    public MeasurementMode Mode { get; set; } = MeasurementMode.Triggered;

    /// <summary>Preset (real) time per measurement in seconds; in <see cref="MeasurementMode.Scan"/> the dwell per point. Usual range 0.01 s (scan) to 300 s.</summary>
    public double PresetSeconds { get; set; } = 10;

    /// <summary>MCA channel count (256 … 8192; the DP5 is set to 1024/2048/4096/8192).</summary>
    public int ChannelCount { get; set; } = 2048;

    /// <summary>Time to wait for an MCA reply before the measurement fails, in seconds (1–60).</summary>
    public double ResponseTimeoutSeconds { get; set; } = 2;

    /// <summary>Replay file (<c>.jsonl</c>). Required for <see cref="AcquisitionSource.Replay"/>.</summary>
    public string? ReplayPath { get; set; }

    /// <summary>Start again at the first spectrum when the replay file ends (otherwise the source is exhausted and the service idles).</summary>
    public bool ReplayLoop { get; set; } = true;

    /// <summary>When true a replayed spectrum takes <see cref="PresetSeconds"/> like a real measurement; false replays as fast as the pipeline takes them (benchmarks).</summary>
    public bool ReplayPaced { get; set; } = true;

    /// <summary>Spectra per scan in <see cref="MeasurementMode.Scan"/> (1 … 10,000,000: a 1000 × 1000 map).</summary>
    public int ScanPoints { get; set; } = 1000;

    /// <summary>Start a scan (or the continuous loop) as soon as the service is ready, without a trigger or command.</summary>
    public bool AutoStart { get; set; }
}

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

    /// <summary>MCA protocol: <c>dp5</c> (Amptek serial packets) or <c>spi</c> (XrfEdge SPI frame protocol).</summary>
    public string Protocol { get; set; } = "dp5";

    /// <summary>
    /// The shortest allowed preset (<see cref="PresetSeconds"/>, MQTT <c>set_preset</c>): the MCA's preset resolution,
    /// below which it would count without a limit; 1 ms for a replay source, which only paces.
    /// </summary>
    public TimeSpan MinimumPreset => Source == AcquisitionSource.Mca
        ? Devices.Acquisition.AcquisitionProfile.MinimumPreset(Protocol)
        : Devices.Acquisition.AcquisitionProfile.SpiPresetResolution;

    /// <summary>
    /// DP5 ASCII configuration applied at start-up, applied in the profile file's order (for example
    /// <c>"MCAC": "2048"</c>, <c>"GAIN": "20.0"</c>, <c>"TPEA": "1.0US"</c>); see the DP5 Programmer's Guide §5.
    /// </summary>
    public Dictionary<string, string> Configuration { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Allow HVSE/TECS (detector high voltage, cooler) in <see cref="Configuration"/>; false by default so a profile never touches them.</summary>
    public bool AllowHighVoltageCommands { get; set; }

    /// <summary>Save the configuration to the DP5's flash (slow, wears flash) instead of RAM only.</summary>
    public bool SaveToFlash { get; set; }

    /// <summary>Reset the DP5 to defaults (RESC=Y) before applying <see cref="Configuration"/>.</summary>
    public bool ResetBeforeConfiguring { get; set; } = true;

    /// <summary>Reply time-out in milliseconds before the expected reply's wire time is added (100 … 10000; Amptek's SDK uses 500–2500).</summary>
    public double ReplyTimeoutMilliseconds { get; set; } = 500;

    /// <summary>Attempts per request before the measurement fails (1 … 20).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Reopen attempts after the serial link is lost (0 … 1000).</summary>
    public int ReconnectAttempts { get; set; } = 10;

    /// <summary>Pause between reopen attempts in milliseconds.</summary>
    public double ReconnectDelayMilliseconds { get; set; } = 1000;

    /// <summary>Status poll interval while a measurement runs, in milliseconds (the guide suggests 200–1000).</summary>
    public double PollIntervalMilliseconds { get; set; } = 250;

    /// <summary>SPI clock mode 0–3 (Protocol = spi).</summary>
    public int SpiMode { get; set; }

    /// <summary>SPI clock in Hz (Protocol = spi; 4–16 MHz is safe on a Pi or Jetson header).</summary>
    public int SpiMaxSpeedHz { get; set; } = 8_000_000;

    /// <summary>
    /// GPIO line offset of the SPI MCA's data-ready output on <see cref="DataReadyChip"/> (Protocol = spi; null = not
    /// wired: the host polls the response every millisecond). docs/spi-mca-protocol.md §1: active high, raised when a
    /// response is ready.
    /// </summary>
    public int? DataReadyLine { get; set; }

    /// <summary>GPIO chip of <see cref="DataReadyLine"/> (<c>/dev/gpiochip0</c>; on a Jetson the header's chip, see <c>gpioinfo</c>).</summary>
    public string DataReadyChip { get; set; } = "/dev/gpiochip0";

    /// <summary>True when the board inverts the data-ready signal (ready = electrically low).</summary>
    public bool DataReadyActiveLow { get; set; }

    /// <summary>The order of <see cref="Configuration"/>'s keys in the profile file (configuration binding sorts them; the DP5 applies them in order).</summary>
    internal List<string> ConfigurationOrder { get; } = [];

    /// <summary>MCA channel count implied by <c>Configuration:MCAC</c> (1024, the DP5 default, when unset).</summary>
    public int ChannelCount =>
        Configuration.TryGetValue("MCAC", out var v) && int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) ? n : 1024;

    /// <summary>
    /// The instrument's X-ray tube anode element (for example <c>Rh</c>; null = not stated). Set on every acquired
    /// spectrum that names no anode itself (an MCA spectrum never does; a replayed one may). The model does not assess
    /// the anode element, whose lines the tube scatters into every spectrum: it is never reported and the detection
    /// lists it in <c>not_assessed</c> (docs/inference.md, "Decoder rules"). A catalogue element or a known tube anode.
    /// </summary>
    public string? TubeAnode { get; set; }

    /// <summary>
    /// The tube high voltage the instrument measures at, kV (null = not stated). Set on every acquired spectrum that
    /// states no voltage itself (an MCA spectrum never does): the decoder then reports no line whose absorption edge
    /// the tube cannot reach (Pb-L at 10 kV, say) and lists an element none of whose lines it can excite as not assessed
    /// (docs/inference.md §4), and the detection carries it as <c>acq.tube_kv</c>. Leave it unset when the voltage
    /// changes between measurements without the profile changing: a wrong value would hide lines that are there.
    /// </summary>
    public double? TubeVoltageKilovolts { get; set; }

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

using System.Globalization;
using System.Text.Json;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Acquisition;

/// <summary>
/// The device keys of a firmware-config profile (<c>firmware-config/NAME.json</c>; keys and units in
/// firmware-config/README.md): from the "Acquisition" section, which link, which DP5 ASCII configuration to apply,
/// the preset time (<c>PresetSeconds</c>) and the link's time-outs; from the top-level "Calibration" section, the
/// energy calibration of this detector. Other sections of the same file (Model, Mqtt …) belong to the service
/// and are ignored here.
/// </summary>
public sealed record AcquisitionProfile
{
    /// <summary>Profile name (file name without .json).</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The DP5's preset resolution: PRET is sent as <c>#######.#</c> seconds, and PRET=0.0 means OFF
    /// (reference mca-and-files.md, text configuration table), so a shorter preset would count without a limit.
    /// </summary>
    public static readonly TimeSpan Dp5PresetResolution = TimeSpan.FromSeconds(0.1);

    /// <summary>
    /// The SPI MCA's preset resolution: START carries whole milliseconds and 0 means "no preset"
    /// (docs/spi-mca-protocol.md §3).
    /// </summary>
    public static readonly TimeSpan SpiPresetResolution = TimeSpan.FromMilliseconds(1);

    /// <summary>"dp5" (Amptek serial) or "spi" (XrfEdge SPI frame protocol).</summary>
    public string Protocol { get; init; } = "dp5";

    /// <summary>The shortest preset <paramref name="protocol"/>'s MCA can count to: its preset resolution.</summary>
    public static TimeSpan MinimumPreset(string protocol) => protocol == "spi" ? SpiPresetResolution : Dp5PresetResolution;

    /// <summary>Default device path (e.g. /dev/ttyAMA0, /dev/spidev0.0); the CLI's --device overrides it.</summary>
    public string? Device { get; init; }

    /// <summary>Serial line rate, bit/s: 115200 (DP5 default), 57600 or 19200.</summary>
    public int BaudRate { get; init; } = 115200;

    /// <summary>DP5 ASCII configuration, in file order (e.g. MCAC → 2048, GAIN → 20.0, TPEA → 1.0US).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Configuration { get; init; } = [];

    /// <summary>Allow HVSE/TECS in <see cref="Configuration"/> (default false: never touch detector HV or cooling).</summary>
    public bool AllowHighVoltageCommands { get; init; }

    /// <summary>Save the configuration to flash (20/02, 80–400 ms flash write) instead of RAM only (20/04).</summary>
    public bool SaveToFlash { get; init; }

    /// <summary>Reset the device to defaults (RESC=Y) before applying <see cref="Configuration"/>.</summary>
    public bool ResetBeforeConfiguring { get; init; } = true;

    /// <summary>Preset accumulation time per measurement (usual 1–300 s).</summary>
    public TimeSpan PresetTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Energy calibration of this detector at its configured channel count (from a calibration measurement).</summary>
    public required EnergyCalibration Calibration { get; init; }

    /// <summary>Reply time-out before the wire time of the expected reply is added (default 500 ms; Amptek SDK uses 500–2500 ms).</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Attempts per request before giving up (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Reopen attempts after the link is lost (default 10).</summary>
    public int ReconnectAttempts { get; init; } = 10;

    /// <summary>Pause between reopen attempts (default 1 s).</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Status poll interval while a measurement runs (default 250 ms; guide suggests 0.2–1 s).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>SPI clock mode 0–3.</summary>
    public int SpiMode { get; init; }

    /// <summary>SPI clock, Hz (4–16 MHz is a safe range on a Pi).</summary>
    public int SpiMaxSpeedHz { get; init; } = 8_000_000;

    /// <summary>
    /// Channels the <see cref="Calibration"/> is for, from MCAC (256–8192); every spectrum the MCA sends must have this
    /// many or it is refused (<see cref="ChannelCountMismatchException"/>). <see cref="Validate"/> refuses a profile
    /// that does not state MCAC; one built in code without it counts as 1024, the DP5's default.
    /// </summary>
    public int ChannelCount => Configuration.LastOrDefault(c => string.Equals(c.Key, "MCAC", StringComparison.OrdinalIgnoreCase)).Value is { } v
        && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 1024;

    /// <summary>Finds <c>NAME.json</c> in a firmware-config folder (current directory upwards, then next to the executable upwards, then /etc/xrfedge), or takes a path as is.</summary>
    /// <exception cref="FileNotFoundException">No such profile; the message lists where it looked.</exception>
    public static string Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        if (nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || nameOrPath.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(nameOrPath) ? nameOrPath : throw new FileNotFoundException($"firmware-config profile {nameOrPath} does not exist", nameOrPath);
        }

        var searched = new List<string>();
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "firmware-config", nameOrPath + ".json");
                searched.Add(candidate);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        var etc = Path.Combine("/etc/xrfedge/firmware-config", nameOrPath + ".json");
        if (File.Exists(etc))
        {
            return etc;
        }

        throw new FileNotFoundException($"firmware-config profile '{nameOrPath}' not found (looked for firmware-config/{nameOrPath}.json from the current directory and the executable upwards, and {etc})");
    }

    /// <summary>
    /// Loads and validates the device keys of a profile file: the "Acquisition" section (link, DP5 configuration,
    /// <c>PresetSeconds</c>, time-outs) and the top-level "Calibration" section, the same keys the service reads.
    /// </summary>
    /// <exception cref="InvalidDataException">Malformed JSON, a missing section, or a bad value; the message names the file and key.</exception>
    public static AcquisitionProfile Load(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (!document.RootElement.TryGetProperty("Acquisition", out var a) || a.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: no \"Acquisition\" object");
            }

            // The keys of the former nested copies, refused rather than ignored so an old profile cannot silently measure with defaults.
            if (a.TryGetProperty("PresetTimeSeconds", out _) || a.TryGetProperty(nameof(Calibration), out _))
            {
                throw new InvalidDataException($"{path}: Acquisition:PresetTimeSeconds and Acquisition:Calibration are no longer read: use Acquisition:PresetSeconds and the top-level \"Calibration\" section");
            }

            var calibration = LoadCalibration(path, document.RootElement);
            var name = Path.GetFileNameWithoutExtension(path);
            try
            {
                var configuration = new List<KeyValuePair<string, string>>();
                if (a.TryGetProperty(nameof(Configuration), out var c))
                {
                    foreach (var p in c.EnumerateObject())
                    {
                        configuration.Add(new(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));
                    }
                }

                var profile = new AcquisitionProfile
                {
                    Name = name,
                    Protocol = Str(a, "Protocol") ?? "dp5",
                    Device = Str(a, "Device"),
                    BaudRate = Int(a, "BaudRate") ?? 115200,
                    Configuration = configuration,
                    AllowHighVoltageCommands = Bool(a, "AllowHighVoltageCommands") ?? false,
                    SaveToFlash = Bool(a, "SaveToFlash") ?? false,
                    ResetBeforeConfiguring = Bool(a, "ResetBeforeConfiguring") ?? true,
                    PresetTime = Duration(a, "PresetSeconds", 10, TimeSpan.FromSeconds),
                    Calibration = calibration,
                    ReplyTimeout = Duration(a, "ReplyTimeoutMilliseconds", 500, TimeSpan.FromMilliseconds),
                    MaxAttempts = Int(a, "MaxAttempts") ?? 3,
                    ReconnectAttempts = Int(a, "ReconnectAttempts") ?? 10,
                    ReconnectDelay = Duration(a, "ReconnectDelayMilliseconds", 1000, TimeSpan.FromMilliseconds),
                    PollInterval = Duration(a, "PollIntervalMilliseconds", 250, TimeSpan.FromMilliseconds),
                    SpiMode = Int(a, "SpiMode") ?? 0,
                    SpiMaxSpeedHz = Int(a, "SpiMaxSpeedHz") ?? 8_000_000,
                };
                return profile.Validate() is { } error ? throw new InvalidDataException(error) : profile;
            }
            catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException or ArgumentException)
            {
                throw new InvalidDataException($"{path}: Acquisition: {e.Message}", e);
            }
        }
    }

    private static EnergyCalibration LoadCalibration(string path, JsonElement root)
    {
        if (!root.TryGetProperty(nameof(Calibration), out var cal) || cal.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: no top-level \"Calibration\" object {{OffsetKeV, GainKeVPerChannel}}");
        }

        try
        {
            return new EnergyCalibration(
                Num(cal, "OffsetKeV") ?? 0,
                Num(cal, "GainKeVPerChannel") ?? throw new InvalidDataException("GainKeVPerChannel is required"),
                Num(cal, "QuadraticKeVPerChannel2") ?? 0);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: Calibration: {e.Message}", e);
        }
    }

    /// <summary>Returns a sentence describing the first invalid setting, or null when the profile is usable.</summary>
    public string? Validate()
    {
        if (Protocol is not ("dp5" or "spi"))
        {
            return $"Protocol must be \"dp5\" or \"spi\", got \"{Protocol}\"";
        }

        if (BaudRate is not (115200 or 57600 or 19200))
        {
            return string.Create(CultureInfo.InvariantCulture, $"BaudRate must be 115200, 57600 or 19200, got {BaudRate}");
        }

        // A calibration is only right for the channel count it was measured at, so that count must be written down:
        // guessing the DP5's default would misread a device left at another MCAC, and an SPI MCA has no default.
        if (!Configuration.Any(c => string.Equals(c.Key, "MCAC", StringComparison.OrdinalIgnoreCase)))
        {
            return "Configuration.MCAC is required: the channel count (256–8192) the Calibration is for; every spectrum must have that many channels";
        }

        // ChannelCount reads a non-number as the DP5 default, which would pass here and then mislabel every spectrum.
        string mcac = Configuration.Last(c => string.Equals(c.Key, "MCAC", StringComparison.OrdinalIgnoreCase)).Value;
        if (!int.TryParse(mcac, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return $"Configuration.MCAC must be 256–8192 (a power of two), got '{mcac}'";
        }

        if (ChannelCount is not (256 or 512 or 1024 or 2048 or 4096 or 8192))
        {
            return string.Create(CultureInfo.InvariantCulture, $"Configuration.MCAC must be 256–8192 (a power of two), got {ChannelCount}");
        }

        if (Calibration.Validate(ChannelCount) is { } calibrationError)
        {
            return "Calibration: " + calibrationError;
        }

        if (!(PresetTime >= MinimumPreset(Protocol)) || PresetTime > TimeSpan.FromDays(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"PresetSeconds must be at least {MinimumPreset(Protocol).TotalSeconds} (the {Protocol} MCA's preset resolution) and at most 86400");
        }

        if (MaxAttempts is < 1 or > 20 || ReconnectAttempts is < 0 or > 1000)
        {
            return "MaxAttempts must be 1–20 and ReconnectAttempts 0–1000";
        }

        if (ReplyTimeout <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || ReconnectDelay < TimeSpan.Zero)
        {
            return "ReplyTimeoutMilliseconds and PollIntervalMilliseconds must be positive, ReconnectDelayMilliseconds not negative";
        }

        if (SpiMode is < 0 or > 3 || SpiMaxSpeedHz is < 1000 or > 125_000_000)
        {
            return "SpiMode must be 0–3 and SpiMaxSpeedHz 1 kHz–125 MHz";
        }

        if (!AllowHighVoltageCommands && Configuration.FirstOrDefault(c => Amptek.Dp5TextConfiguration.HazardousCommands.Contains(c.Key.ToUpperInvariant())) is { Key: not null } hazardous)
        {
            return $"Configuration contains {hazardous.Key.ToUpperInvariant()} (detector high voltage/cooling) but AllowHighVoltageCommands is not true";
        }

        return null;
    }

    private static string? Str(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetString() : null;

    private static double? Num(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new FormatException($"{key} must be a number")
        : null;

    /// <summary>
    /// A duration key; a value beyond <see cref="TimeSpan.MaxValue"/> (1e17 ms) is a <see cref="FormatException"/> naming
    /// the key, where TimeSpan's own OverflowException reached the user as a stack trace.
    /// </summary>
    private static TimeSpan Duration(JsonElement e, string key, double fallback, Func<double, TimeSpan> toTimeSpan)
    {
        double value = Num(e, key) ?? fallback;
        try
        {
            return toTimeSpan(value);
        }
        catch (OverflowException)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{key} = {value} is too long to be a duration"));
        }
    }

    private static int? Int(JsonElement e, string key) => Num(e, key) is { } d
        ? d == Math.Floor(d) && Math.Abs(d) < int.MaxValue ? (int)d : throw new FormatException($"{key} must be an integer")
        : null;

    private static bool? Bool(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null
        ? v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new FormatException($"{key} must be true or false")
        : null;
}

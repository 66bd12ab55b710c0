using System.Globalization;
using System.Text.RegularExpressions;
using XrfEdge.Messaging.Commands;
using XrfEdge.Messaging.Topics;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Service.Options;

/// <summary>The rules every bound profile must meet; each message names the key, the value and the rule.</summary>
public static partial class ProfileValidator
{
    /// <summary>Returns one sentence per broken rule (empty = valid). Checks only the profile, never the hardware.</summary>
    public static IReadOnlyList<string> Validate(ServiceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var problems = new List<string>();
        var a = settings.Acquisition;
        if (a.Source == AcquisitionSource.Mca && string.IsNullOrWhiteSpace(a.Device))
        {
            problems.Add("Acquisition:Device = '': required when Acquisition:Source is Mca (the MCA's serial device, for example /dev/ttyUSB0)");
        }

        if (a.Source == AcquisitionSource.Replay)
        {
            if (string.IsNullOrWhiteSpace(a.ReplayPath))
            {
                problems.Add("Acquisition:ReplayPath = '': required when Acquisition:Source is Replay");
            }
            else if (!File.Exists(a.ReplayPath))
            {
                problems.Add($"Acquisition:ReplayPath = '{a.ReplayPath}': file not found");
            }
        }

        double minimum = a.MinimumPreset.TotalSeconds;
        Range(problems, "Acquisition:PresetSeconds", a.PresetSeconds, minimum, 86_400, $"≥ {minimum.ToString(System.Globalization.CultureInfo.InvariantCulture)} s (the MCA's preset resolution) and ≤ 86400 (one day)");
        if (a.Protocol is not ("dp5" or "spi"))
        {
            problems.Add($"Acquisition:Protocol = '{a.Protocol}': must be dp5 or spi");
        }

        if (a.Source == AcquisitionSource.Mca)
        {
            // Upper bounds first: the device profile holds these as TimeSpans, and a value beyond TimeSpan.MaxValue
            // (1e17 ms) threw OverflowException out of ToDeviceProfile: a stack trace and exit 1, which the unit restarts.
            bool durationsFit = true;
            foreach (var (key, milliseconds) in new[]
            {
                ("ReplyTimeoutMilliseconds", a.ReplyTimeoutMilliseconds), ("ReconnectDelayMilliseconds", a.ReconnectDelayMilliseconds),
                ("PollIntervalMilliseconds", a.PollIntervalMilliseconds),
            })
            {
                if (milliseconds > MaxAcquisitionMilliseconds)
                {
                    problems.Add(Invariant($"Acquisition:{key} = {milliseconds}: must be at most {MaxAcquisitionMilliseconds} (10 minutes)"));
                    durationsFit = false;
                }
            }

            // The DP5 rules (rates, MCAC sizes, HV/cooler commands, time-outs) live with the session in XrfEdge.Devices.
            if (durationsFit && AcquisitionProfiles.ToDeviceProfile("profile", a, settings.Calibration).Validate() is { } deviceProblem)
            {
                problems.Add("Acquisition: " + deviceProblem);
            }
        }

        if (a.DataReadyLine is { } readyLine)
        {
            if (a.Protocol != "spi")
            {
                problems.Add(Invariant($"Acquisition:DataReadyLine = {readyLine}: only used with Acquisition:Protocol = spi"));
            }

            if (readyLine is < 0 or > 511)
            {
                problems.Add(Invariant($"Acquisition:DataReadyLine = {readyLine}: must be a line offset from 0 to 511"));
            }

            if (string.IsNullOrWhiteSpace(a.DataReadyChip))
            {
                problems.Add("Acquisition:DataReadyChip = '': required when Acquisition:DataReadyLine is set (/dev/gpiochip0)");
            }
        }

        Range(problems, "Acquisition:ScanPoints", a.ScanPoints, 1, 10_000_000, "between 1 and 10000000");
        if (a.AutoStart && a.Mode == MeasurementMode.Triggered)
        {
            // Until 2026-11-24 this started one exposure at every start of the service, crash-loop restarts included,
            // with nobody at the trigger.
            problems.Add("Acquisition:AutoStart = true: only for Mode Continuous or Scan; in Triggered mode every exposure waits for the trigger or a start command, and an auto-start would fire the tube at each (re)start of the service");
        }
        if (a.TubeAnode is { } anode && TubeAnode.Check(anode) is { } anodeProblem)
        {
            problems.Add($"Acquisition:TubeAnode = '{anode}': {anodeProblem}");
        }

        if (a.TubeVoltageKilovolts is { } kilovolts && Excitation.CheckTubeVoltage(kilovolts) is { } voltageProblem)
        {
            problems.Add(Invariant($"Acquisition:TubeVoltageKilovolts = {kilovolts}: {voltageProblem}"));
        }

        var c = settings.Calibration;
        string? calibrationProblem = new EnergyCalibration(c.OffsetKeV, c.GainKeVPerChannel, c.QuadraticKeVPerChannel2).Validate(a.ChannelCount);
        if (calibrationProblem is not null)
        {
            problems.Add(Invariant($"Calibration (OffsetKeV = {c.OffsetKeV}, GainKeVPerChannel = {c.GainKeVPerChannel}, QuadraticKeVPerChannel2 = {c.QuadraticKeVPerChannel2}) with {a.ChannelCount} channels (Acquisition:Configuration:MCAC): {calibrationProblem}"));
        }

        var m = settings.Model;
        if (string.IsNullOrWhiteSpace(m.Path))
        {
            problems.Add("Model:Path = '': required (the ONNX encoder, models/xrf-line-encoder.int8.onnx)");
        }

        // A model or card file that is missing or refused is not a profile error: the service runs without analysis and
        // loads the model when its files appear or change (Pipeline/ModelSlot), so a failed model update cannot stop
        // the instrument (exit 78 is not restarted by systemd). Critical 8073 and the status's model_error name the file.

        Range(problems, "Model:MaxBatchSize", m.MaxBatchSize, 1, 4096, "between 1 and 4096");
        Range(problems, "Model:IntraOpThreads", m.IntraOpThreads, 0, 64, "between 0 (library default) and 64");

        var d = settings.Decoder;
        Range(problems, "Decoder:ThresholdScale", d.ThresholdScale, 0.1, 10, "between 0.1 and 10");
        if (d.MinElementProbability is { } p)
        {
            Range(problems, "Decoder:MinElementProbability", p, 0, 1, "between 0 and 1");
        }

        foreach (string symbol in d.IgnoreElements)
        {
            if (!LineCatalog.Default.Elements.Any(e => e.Symbol == symbol))
            {
                problems.Add($"Decoder:IgnoreElements contains '{symbol}': not an element of the catalogue (symbols are case-sensitive, for example Rh)");
            }
        }

        var q = settings.Mqtt;
        if (string.IsNullOrWhiteSpace(q.Host))
        {
            problems.Add("Mqtt:Host = '': required (broker host name or address)");
        }
        else if (Uri.CheckHostName(q.Host) == UriHostNameType.Unknown || q.Host.StartsWith('['))
        {
            // "mqtt://broker", "broker:1883", "[::1]": libmosquitto takes the string as a name to resolve, which never
            // resolves, so the instrument stayed offline with a profile that had passed. CheckHostName calls a bracketed
            // IPv6 literal IPv6, so the brackets are refused here (since 2026-11-24).
            problems.Add($"Mqtt:Host = '{q.Host}': must be a host name or an IP address only (no scheme such as mqtt://, no :port, no [ ] around an IPv6 address; the port is Mqtt:Port and TLS is Mqtt:CaFile)");
        }

        if (!string.IsNullOrEmpty(q.Password) && string.IsNullOrEmpty(q.Username))
        {
            // The transport hands credentials to libmosquitto only with a user name (MQTT 3.1.1 §3.1.2.9: no password
            // without a user name), so the password alone was dropped silently: a broker that requires a login refused every connect.
            problems.Add("Mqtt:Password is set but Mqtt:Username is not: the service sends a password only with a user name, as MQTT 3.1.1 requires (set Mqtt:Username, XRFEDGE_Mqtt__Username in /etc/xrfedge/xrfedge.env)");
        }

        Range(problems, "Mqtt:Port", q.Port, 1, 65_535, "between 1 and 65535");
        Range(problems, "Mqtt:KeepAliveSeconds", q.KeepAliveSeconds, 5, 600, "between 5 and 600");
        if (!TopicSegment().IsMatch(q.Fleet))
        {
            problems.Add($"Mqtt:Fleet = '{q.Fleet}': must be 1–64 characters from A–Z a–z 0–9 _ - (it is a topic segment)");
        }

        if (!TopicSegment().IsMatch(q.DeviceId))
        {
            problems.Add($"Mqtt:DeviceId = '{q.DeviceId}': must be 1–64 characters from A–Z a–z 0–9 _ - (topic segment and MQTT client id; use the instrument serial number)");
        }

        if (q.CaFile is not null && !File.Exists(q.CaFile))
        {
            problems.Add($"Mqtt:CaFile = '{q.CaFile}': file not found");
        }

        MqttTls.Check(q, problems);
        if (q.MaxPacketBytes is { } maxPacketBytes)
        {
            Range(problems, "Mqtt:MaxPacketBytes", maxPacketBytes, 1024, 268_435_455, "between 1024 (a detection is 1–3 KB) and 268435455 (the MQTT maximum, 256 MiB − 1), or unset for no limit of our own");
        }

        Range(problems, "Mqtt:DisconnectTimeoutSeconds", q.DisconnectTimeoutSeconds, 0.1, 30, "between 0.1 and 30 (how long a stop waits for the DISCONNECT to be written before it shuts the socket down; with the 5 s for an unanswered offline it must stay inside the unit's TimeoutStopSec=45)");
        Range(problems, "Mqtt:HomeAssistantBirthDelaySeconds", q.HomeAssistantBirthDelaySeconds, 0, 60, "between 0 (at once) and 60 (the longest random delay before the discovery config answers Home Assistant's birth)");
        var k = q.Commands;
        Range(problems, "Mqtt:Commands:MaxPayloadBytes", k.MaxPayloadBytes, 1024, 1_048_576, "between 1024 (a valid command with every field at its length limit is under 1 KiB) and 1048576");
        Range(problems, "Mqtt:Commands:MaxPendingCommands", k.MaxPendingCommands, 1, 1_024, "between 1 and 1024");
        Range(problems, "Mqtt:Commands:MaxAgeSeconds", k.MaxAgeSeconds, 5, 600, "between 5 and 600 (a start can be replayed for this long when it carries no ts)");
        Range(problems, "Mqtt:Commands:MaxClockSkewSeconds", k.MaxClockSkewSeconds, 0, 300, "between 0 and 300");
        Range(problems, "Mqtt:Commands:DeduplicationCapacity", k.DeduplicationCapacity, 256, 262_144, "between 256 (fewer refuse starts as busy after a few hundred commands) and 262144 (16 × the default; each id costs memory)");
        if (!string.IsNullOrEmpty(k.ResponseTopicPrefix) && TopicSegment().IsMatch(q.Fleet) && TopicSegment().IsMatch(q.DeviceId)
            && CommandOptions.CheckResponseTopicPrefix(k.ResponseTopicPrefix, new TopicTree(q.Fleet, q.DeviceId)) is { } prefixProblem)
        {
            problems.Add($"Mqtt:Commands:ResponseTopicPrefix = '{k.ResponseTopicPrefix}': {prefixProblem}");
        }

        var o = settings.Outbox;
        if (string.IsNullOrWhiteSpace(o.Path))
        {
            problems.Add("Outbox:Path = '': required (SQLite file, under systemd ${STATE_DIRECTORY}/outbox.db)");
        }
        else if (OutboxPathProblem(o.Path) is { } outboxProblem)
        {
            problems.Add($"Outbox:Path = '{o.Path}': {outboxProblem}");
        }

        Range(problems, "Outbox:MaxMegabytes", o.MaxMegabytes, 1, 100_000, "between 1 and 100000");
        Range(problems, "Outbox:ResultRetentionMegabytes", o.ResultRetentionMegabytes, 1, 100_000, "between 1 and 100000");
        Range(problems, "Outbox:MaxAgeDays", o.MaxAgeDays, 1, 3_650, "between 1 and 3650");
        Range(problems, "Outbox:InflightWindow", o.InflightWindow, 1, 1_000, "between 1 and 1000");

        var g = settings.Gpio;
        if (g.Enabled)
        {
            if (string.IsNullOrWhiteSpace(g.Chip))
            {
                problems.Add("Gpio:Chip = '': required when Gpio:Enabled is true (/dev/gpiochip0, or fake)");
            }

            var used = new Dictionary<int, string>();
            foreach (var (name, line) in new (string, int?)[]
            {
                ("TriggerLine", g.TriggerLine), ("InterlockLine", g.InterlockLine), ("XrayWarningLine", g.XrayWarningLine),
                ("ReadyLedLine", g.ReadyLedLine), ("MeasuringLedLine", g.MeasuringLedLine), ("FaultLedLine", g.FaultLedLine),
                ("OfflineLedLine", g.OfflineLedLine), ("BuzzerLine", g.BuzzerLine),
            })
            {
                if (line is not { } offset)
                {
                    continue;
                }

                if (offset is < 0 or > 511)
                {
                    problems.Add(Invariant($"Gpio:{name} = {offset}: must be a line offset from 0 to 511"));
                }
                else if (!used.TryAdd(offset, name))
                {
                    problems.Add(Invariant($"Gpio:{name} = {offset}: line already used by Gpio:{used[offset]}"));
                }
            }

            if (settings.Acquisition.DataReadyLine is { } dataReady && settings.Acquisition.DataReadyChip == g.Chip && used.TryGetValue(dataReady, out var clash))
            {
                problems.Add(Invariant($"Acquisition:DataReadyLine = {dataReady}: line already used by Gpio:{clash} on {g.Chip}"));
            }

            Range(problems, "Gpio:TriggerDebounceMilliseconds", g.TriggerDebounceMilliseconds, 0, 1_000, "between 0 and 1000");
            Range(problems, "Gpio:InterlockDebounceMilliseconds", g.InterlockDebounceMilliseconds, 0, 1_000, "between 0 and 1000");
        }

        var h = settings.Health;
        Range(problems, "Health:IntervalSeconds", h.IntervalSeconds, 1, 3_600, "between 1 and 3600");
        Range(problems, "Health:StallSeconds", h.StallSeconds, 1, 600, "between 1 and 600");
        Range(problems, "Health:StopTimeoutSeconds", h.StopTimeoutSeconds, 1, 120, "between 1 and 120 (below the unit's TimeoutStopSec=45)");
        return problems;
    }

    /// <summary>Longest MCA reply time-out, reconnect delay or status poll interval a profile may set: 10 minutes, far above any real one.</summary>
    private const double MaxAcquisitionMilliseconds = 600_000;

    /// <summary>
    /// The outbox is one SQLite file. Opening creates missing parent folders (as systemd's StateDirectory= does for
    /// /var/lib/xrfedge), so the rule is: not a directory itself, and the nearest existing ancestor is a directory.
    /// </summary>
    private static string? OutboxPathProblem(string path)
    {
        if (Directory.Exists(path) || path.EndsWith('/'))
        {
            return "is a directory; name the database file, for example " + Path.Combine(path, "outbox.db");
        }

        for (string? parent = Path.GetDirectoryName(Path.GetFullPath(path)); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent))
            {
                return null;
            }

            if (File.Exists(parent))
            {
                return $"'{parent}' is a file, so the folder for the database cannot be created";
            }
        }

        return null;
    }

    private static void Range(List<string> problems, string key, double value, double min, double max, string rule)
    {
        if (!(value >= min && value <= max))
        {
            problems.Add(Invariant($"{key} = {value}: must be {rule}"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // \z, not $: .NET's $ also matches before a final '\n' (a serial read from a file), which then became a topic level.
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex TopicSegment();
}

using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace XrfEdge.Service.Options;

/// <summary>
/// Builds the service configuration from, in increasing priority: the profile file (JSON), environment variables
/// prefixed <c>XRFEDGE_</c> (<c>XRFEDGE_Mqtt__Host</c>), and <c>--set Section:Key=Value</c> pairs; then checks every
/// key and value before anything touches hardware. Relative paths in the profile resolve against the profile's folder.
/// </summary>
public static partial class ProfileLoader
{
    /// <summary>Prefix of environment variables that override profile keys.</summary>
    public const string EnvironmentPrefix = "XRFEDGE_";

    /// <summary>
    /// Variables with the prefix that are the deployment's, not profile keys, and so are not read as configuration:
    /// <c>XRFEDGE_PROFILE</c> names the profile file in the systemd unit's <c>ExecStart=</c> (systemd/xrfedge.service,
    /// /etc/xrfedge/xrfedge.env). Read as a key it was an "unknown section", exit 78, and the unit never started.
    /// <c>XRFEDGE_ONNXRUNTIME_PATH</c> is ONNX Runtime's own fallback library path (docs/inference.md tells a JetPack site
    /// to set it; until 2026-11-24 it too was an "unknown section" and exit 78), and <c>XRFEDGE_PREBUILT</c> is
    /// scripts/install.sh's, which may still be exported in the shell that runs <c>./xrfedge run</c>.
    /// Any other unknown <c>XRFEDGE_</c> variable is still an error, so a misspelt key is not ignored.
    /// </summary>
    public static IReadOnlySet<string> DeploymentVariables { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "XRFEDGE_PROFILE", XrfEdge.Inference.Native.OnnxRuntime.LibraryPathVariable, "XRFEDGE_PREBUILT",
    };

    /// <summary>The option types by section; a section or key not listed here is an error.</summary>
    public static IReadOnlyDictionary<string, Type> Sections { get; } = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        [AcquisitionOptions.Section] = typeof(AcquisitionOptions),
        [CalibrationOptions.Section] = typeof(CalibrationOptions),
        [ModelOptions.Section] = typeof(ModelOptions),
        [DecoderOptions.Section] = typeof(DecoderOptions),
        [MqttOptions.Section] = typeof(MqttOptions),
        [OutboxOptions.Section] = typeof(OutboxOptions),
        [GpioOptions.Section] = typeof(GpioOptions),
        [HealthOptions.Section] = typeof(HealthOptions),
    };

    /// <summary>Builds the layered configuration. Throws <see cref="ProfileException"/> for a missing/unreadable file or a malformed <c>--set</c>.</summary>
    public static IConfigurationRoot Build(string profilePath, IEnumerable<string> sets, IDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(sets);
        string fullPath = Path.GetFullPath(profilePath);
        if (Directory.Exists(fullPath))
        {
            throw new ProfileException([$"profile {profilePath}: is a directory; name a profile file in it, for example {Path.Combine(profilePath, "pi-dp5-uart.json")}"]);
        }

        if (!File.Exists(fullPath))
        {
            throw new ProfileException([$"profile {profilePath}: file not found"]);
        }

        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        foreach (string set in sets)
        {
            int eq = set.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !set[..eq].Contains(':', StringComparison.Ordinal))
            {
                problems.Add($"--set '{set}': expected Section:Key=Value (for example Acquisition:PresetSeconds=5)");
                continue;
            }

            overrides[set[..eq].Trim()] = set[(eq + 1)..];
        }

        if (problems.Count > 0)
        {
            throw new ProfileException(problems);
        }

        var builder = new ConfigurationBuilder();
        try
        {
            builder.AddJsonFile(fullPath, optional: false, reloadOnChange: false);
            builder.AddInMemoryCollection((environment ?? ProcessEnvironment())
                .Where(e => e.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && !DeploymentVariables.Contains(e.Key))
                .Select(e => new KeyValuePair<string, string?>(e.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), e.Value)));

            builder.AddInMemoryCollection(overrides);
            return builder.Build();
        }
        catch (UnauthorizedAccessException ex)
        {
            // A site profile installed 0600 root that the unit's User=xrfedge cannot open. Until 2026-11-24 this escaped
            // as a stack trace with exit 1, which Restart=on-failure restarted; it is a configuration error (78).
            throw new ProfileException([$"profile {profilePath}: cannot be read by user {Environment.UserName} ({ex.Message}); make it readable, e.g. mode 0640 group xrfedge"]);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or System.Text.Json.JsonException)
        {
            throw new ProfileException([$"profile {profilePath}: not valid JSON{JsonErrorAt(ex)}"]);
        }
    }

    /// <summary>
    /// Where the parser stopped, from the <see cref="System.Text.Json.JsonException"/> that Microsoft's JSON provider wraps
    /// twice (InvalidDataException → FormatException "Could not parse the JSON file." → JsonException): until 2026-11-24
    /// the message was that middle sentence, with no line, for a 70-line profile.
    /// </summary>
    private static string JsonErrorAt(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Text.Json.JsonException { LineNumber: { } line } json)
            {
                string reason = json.Message;
                int position = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
                reason = (position > 0 ? reason[..position] : reason).TrimEnd(' ', '|', '.');
                // Zero-based in System.Text.Json; editors count from 1.
                return string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {json.BytePositionInLine + 1}: {reason}");
            }
        }

        return ": " + (exception.InnerException?.Message ?? exception.Message);
    }

    private static Dictionary<string, string?> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = entry.Value as string;
        }

        return variables;
    }

    /// <summary>Loads, type-checks, binds and validates a profile; throws <see cref="ProfileException"/> listing every problem.</summary>
    public static ServiceSettings Load(string profilePath, IEnumerable<string> sets, IDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var setList = sets.ToList();
        var variables = environment ?? ProcessEnvironment();
        var configuration = Build(profilePath, setList, variables);
        var problems = CheckKeysAndTypes(configuration);
        if (problems.Count > 0)
        {
            throw new ProfileException(problems, profilePath, p => Origin(p, setList, variables));
        }

        var settings = Bind(configuration);
        settings.Acquisition.ConfigurationOrder.AddRange(ConfigurationOrderInFile(profilePath));
        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(profilePath))!;
        ResolvePaths(settings, baseDirectory, variables);
        problems.AddRange(ProfileValidator.Validate(settings));
        if (problems.Count > 0)
        {
            throw new ProfileException(problems, profilePath, p => Origin(p, setList, variables));
        }

        return settings;
    }

    /// <summary>
    /// The input that set the key a problem starts with (<c>Mqtt:Port = 70000: …</c>): the last <c>--set</c> of it, else
    /// its environment variable, else null (the profile file, or the key's default). An unknown section or key also
    /// matches an override below it (<c>XRFEDGE_Mqqt__Host</c> makes the unknown section <c>Mqqt</c>).
    /// </summary>
    private static string? Origin(string problem, List<string> sets, IDictionary<string, string?> environment)
    {
        var match = ProblemKey().Match(problem);
        if (!match.Success)
        {
            return null;
        }

        string key = match.Value;
        bool unknown = problem.AsSpan(key.Length).StartsWith(": unknown ", StringComparison.Ordinal);
        bool Sets(string overridden) => overridden.Equals(key, StringComparison.OrdinalIgnoreCase)
            || (unknown && overridden.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase));

        for (int i = sets.Count - 1; i >= 0; i--)
        {
            int eq = sets[i].IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && Sets(sets[i][..eq].Trim()))
            {
                return "--set " + sets[i];
            }
        }

        foreach (var variable in environment.Keys.Order(StringComparer.Ordinal))
        {
            if (variable.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && !DeploymentVariables.Contains(variable)
                && Sets(variable[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)))
            {
                return "environment variable " + variable;
            }
        }

        return null;
    }

    // The key a problem sentence starts with, followed by " = value", ": rule" or " contains".
    [GeneratedRegex(@"^[A-Za-z0-9_$]+(?::[A-Za-z0-9_$]+)*(?=( = |: | contains ))")]
    private static partial Regex ProblemKey();

    /// <summary>Binds every section (call after <see cref="CheckKeysAndTypes"/> found nothing).</summary>
    public static ServiceSettings Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new ServiceSettings();
        configuration.GetSection(AcquisitionOptions.Section).Bind(settings.Acquisition);
        configuration.GetSection(CalibrationOptions.Section).Bind(settings.Calibration);
        configuration.GetSection(ModelOptions.Section).Bind(settings.Model);
        configuration.GetSection(DecoderOptions.Section).Bind(settings.Decoder);
        configuration.GetSection(MqttOptions.Section).Bind(settings.Mqtt);
        configuration.GetSection(OutboxOptions.Section).Bind(settings.Outbox);
        configuration.GetSection(GpioOptions.Section).Bind(settings.Gpio);
        configuration.GetSection(HealthOptions.Section).Bind(settings.Health);
        return settings;
    }

    /// <summary>
    /// Every <c>…:LogLevel:{category}</c> value under <c>Logging</c> must name a <see cref="LogLevel"/> (any case) or be
    /// its number 0–6, as Microsoft.Extensions.Logging reads it (Enum.TryParse: "2" is Information; it would also take
    /// "99", a level that matches nothing, which is refused here).
    /// </summary>
    private static void CheckLogLevels(IConfigurationSection logging, List<string> problems)
    {
        foreach (var entry in logging.AsEnumerable())
        {
            string[] parts = entry.Key.Split(':');
            if (entry.Value is not { Length: > 0 } value || parts.Length < 2 || !parts[^2].Equals("LogLevel", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            bool number = value.Length == 1 && value[0] is >= '0' and <= '6';
            if (!number && !Enum.GetNames<LogLevel>().Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{entry.Key} = '{value}': must be one of {string.Join(", ", Enum.GetNames<LogLevel>())} (or 0–6)");
            }
        }
    }

    /// <summary>Reports unknown sections/keys and values that do not convert to the key's type.</summary>
    public static List<string> CheckKeysAndTypes(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        foreach (var section in configuration.GetChildren())
        {
            if (section.Key.Equals("$schema", StringComparison.Ordinal))
            {
                continue;
            }

            if (section.Key.Equals("Logging", StringComparison.OrdinalIgnoreCase))
            {
                // Microsoft.Extensions.Logging's own section (levels per category, per provider): its keys are free, but a
                // bad level would only fail when the host builds its loggers, with exit 1 and without naming the key.
                CheckLogLevels(section, problems);
                continue;
            }

            if (!Sections.TryGetValue(section.Key, out var type))
            {
                problems.Add($"{section.Path}: unknown section (known: {string.Join(", ", Sections.Keys)}, Logging)");
                continue;
            }

            CheckSection(section, type, problems);
        }

        return problems;
    }

    /// <summary>
    /// Checks the keys of one section against its options type; a property whose type is itself an options class of this
    /// namespace (<c>Mqtt:Commands</c>) is a nested section, checked the same way.
    /// </summary>
    private static void CheckSection(IConfigurationSection section, Type type, List<string> problems)
    {
        foreach (var key in section.GetChildren())
        {
            var property = type.GetProperty(key.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                string known = string.Join(", ", type.GetProperties().Where(p => p.CanWrite).Select(p => p.Name));
                problems.Add($"{key.Path}: unknown key (keys of {section.Path}: {known})");
                continue;
            }

            if (IsNestedSection(property.PropertyType))
            {
                if (key.Value is { Length: > 0 } value)
                {
                    problems.Add($"{key.Path} = '{value}': must be an object of keys ({string.Join(", ", property.PropertyType.GetProperties().Where(p => p.CanWrite).Select(p => p.Name))})");
                    continue;
                }

                CheckSection(key, property.PropertyType, problems);
                continue;
            }

            string? problem = CheckValue(property.PropertyType, key);
            if (problem is not null)
            {
                problems.Add(problem);
            }
        }
    }

    private static string EnvironmentName(string path) => EnvironmentPrefix + path.Replace(":", "__", StringComparison.Ordinal);

    private static bool IsNestedSection(Type type) =>
        type.IsClass && type != typeof(string) && !type.IsArray && !type.IsGenericType && type.Namespace == typeof(ProfileLoader).Namespace;

    private static string? CheckValue(Type type, IConfigurationSection key)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var bad = key.GetChildren().FirstOrDefault(c => c.Value is null);
            // A --set or a variable gives one value; say how they give a pair (a file gives an object).
            return key.Value is { Length: > 0 }
                ? $"{key.Path} = '{key.Value}': must be an object of NAME: value pairs (one pair per --set, {key.Path}:NAME=value, or per variable, {EnvironmentName(key.Path)}__NAME=value)"
                : bad is not null ? $"{bad.Path}: must be a single value" : null;
        }

        if (target.IsArray)
        {
            return key.Value is null || key.Value.Length == 0 ? null
                : $"{key.Path} = '{key.Value}': must be a list (a JSON array in the file; one item per --set, {key.Path}:0={key.Value}, {key.Path}:1=…, or per variable, {EnvironmentName(key.Path)}__0={key.Value})";
        }

        string? value = key.Value;
        if (value is null)
        {
            return key.GetChildren().Any() ? $"{key.Path}: must be a single value, not an object" : null;
        }

        if (value.Length == 0 && Nullable.GetUnderlyingType(type) is not null)
        {
            return null; // empty = not set
        }

        if (target == typeof(string))
        {
            return null;
        }

        if (target.IsEnum)
        {
            return Enum.GetNames(target).Any(n => n.Equals(value, StringComparison.OrdinalIgnoreCase))
                ? null
                : $"{key.Path} = '{value}': must be one of {string.Join(", ", Enum.GetNames(target))}";
        }

        bool ok = target == typeof(int) ? int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            : target == typeof(double) ? double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
            : target == typeof(bool) ? bool.TryParse(value, out _)
            : true;
        string kind = target == typeof(int) ? "a whole number" : target == typeof(double) ? "a finite number" : target == typeof(bool) ? "true or false" : target.Name;
        return ok ? null : $"{key.Path} = '{value}': must be {kind}";
    }

    private static void ResolvePaths(ServiceSettings settings, string baseDirectory, IDictionary<string, string?> environment)
    {
        settings.Model.Path = Resolve(settings.Model.Path, baseDirectory, environment)!;
        settings.Model.CardPath = Resolve(settings.Model.CardPath, baseDirectory, environment);
        settings.Model.OnnxRuntimeLibraryPath = Resolve(settings.Model.OnnxRuntimeLibraryPath, baseDirectory, environment);
        settings.Mqtt.CaFile = Resolve(settings.Mqtt.CaFile, baseDirectory, environment);
        settings.Mqtt.CertFile = Resolve(settings.Mqtt.CertFile, baseDirectory, environment);
        settings.Mqtt.KeyFile = Resolve(settings.Mqtt.KeyFile, baseDirectory, environment);
        // The default file name goes to systemd's state directory when there is one: next to the profile it lands in
        // /opt/xrfedge/firmware-config, which the unit's ProtectSystem=strict makes read-only, and until 2026-11-24 a site
        // profile without an Outbox section failed start-up there ("Read-only file system", exit 1, restarts).
        settings.Outbox.Path = settings.Outbox.Path == OutboxOptions.DefaultPath && StateDirectory(environment) is { } state
            ? Path.Combine(state, OutboxOptions.DefaultPath)
            : Resolve(settings.Outbox.Path, baseDirectory, environment)!;
        settings.Acquisition.ReplayPath = Resolve(settings.Acquisition.ReplayPath, baseDirectory, environment);
        settings.Acquisition.Device = Resolve(settings.Acquisition.Device, baseDirectory, environment);
        if (!settings.Gpio.Chip.Equals("fake", StringComparison.OrdinalIgnoreCase))
        {
            settings.Gpio.Chip = Resolve(settings.Gpio.Chip, baseDirectory, environment)!;
        }
    }

    private static List<string> ConfigurationOrderInFile(string profilePath)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(profilePath), new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true });
        foreach (var section in document.RootElement.EnumerateObject())
        {
            if (!section.Name.Equals(AcquisitionOptions.Section, StringComparison.OrdinalIgnoreCase) || section.Value.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                continue;
            }

            foreach (var key in section.Value.EnumerateObject())
            {
                if (key.Name.Equals(nameof(AcquisitionOptions.Configuration), StringComparison.OrdinalIgnoreCase) && key.Value.ValueKind == System.Text.Json.JsonValueKind.Object)
                {
                    return key.Value.EnumerateObject().Select(p => p.Name).ToList();
                }
            }
        }

        return [];
    }

    /// <summary>
    /// systemd's <c>$STATE_DIRECTORY</c> (the first, when <c>StateDirectory=</c> names several, colon-separated), or null
    /// when it is not set or not an absolute path.
    /// </summary>
    private static string? StateDirectory(IDictionary<string, string?> environment)
    {
        var first = environment.TryGetValue("STATE_DIRECTORY", out var value) ? value?.Split(':')[0] : null;
        return string.IsNullOrEmpty(first) || !Path.IsPathRooted(first) ? null : first;
    }

    /// <summary>Expands <c>${NAME}</c> from the environment (systemd's <c>$STATE_DIRECTORY</c>) and makes a relative path absolute against <paramref name="baseDirectory"/>.</summary>
    public static string? Resolve(string? path, string baseDirectory, IDictionary<string, string?>? environment = null)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return path;
        }

        string expanded = Variable().Replace(path, m =>
            (environment is not null ? environment.TryGetValue(m.Groups[1].Value, out var v) ? v : null : Environment.GetEnvironmentVariable(m.Groups[1].Value))
            ?? throw new ProfileException([$"path '{path}': environment variable {m.Groups[1].Value} is not set"]));
        return Path.IsPathRooted(expanded) ? expanded : Path.GetFullPath(Path.Combine(baseDirectory, expanded));
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex Variable();
}

using System.Text;

namespace XrfEdge.Devices.Amptek;

/// <summary>
/// Builds and parses DP5 ASCII configuration (guide rev A7 §4.1.18–4.1.20 and §5): <c>CMND=value;</c>,
/// upper case, no whitespace, values ≤ 10 characters, <c>RESC=Y;</c> first and only in the first packet,
/// commands sent in the guide's ORDER (RESC 1, CLCK 2, TPEA 3, GAIN/GAIA/GAIF/RESL/TFLA/TPFA 4, RTDE 5,
/// MCAS/RTDD/RTDW 6; SOFF after MCAC), split only at <c>;</c> into packets of at most 512 data bytes.
/// HVSE (detector high voltage) and TECS (cooler set point) are refused unless explicitly allowed:
/// a wrong value can damage a detector.
/// </summary>
public static class Dp5TextConfiguration
{
    /// <summary>Commands that can harm the detector: refused unless the profile allows them.</summary>
    public static readonly IReadOnlySet<string> HazardousCommands = new HashSet<string>(StringComparer.Ordinal) { "HVSE", "TECS" };

    /// <summary>Largest value, characters (guide §4.1.18).</summary>
    public const int MaxValueLength = 10;

    /// <summary>Orders and splits <paramref name="settings"/> into request payloads, <c>RESC=Y;</c> first.</summary>
    /// <param name="settings">Command → value, e.g. MCAC → 2048; case is normalised to upper.</param>
    /// <param name="allowHazardous">Permit HVSE/TECS (only when a profile says so explicitly).</param>
    /// <param name="resetFirst">Prefix <c>RESC=Y;</c> (reset to defaults) as the guide recommends for a full profile.</param>
    /// <exception cref="ArgumentException">A malformed name/value, or HVSE/TECS without permission.</exception>
    public static IReadOnlyList<string> BuildPayloads(IEnumerable<KeyValuePair<string, string>> settings, bool allowHazardous, bool resetFirst = true)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var commands = new List<(int Order, int Index, string Text)>();
        var index = 0;
        foreach (var (rawName, rawValue) in settings)
        {
            var name = rawName.Trim().ToUpperInvariant();
            var value = rawValue.Trim().ToUpperInvariant();
            if (name.Length != 4 || !name.All(char.IsAsciiLetterOrDigit))
            {
                throw new ArgumentException($"DP5 command name '{rawName}' must be four letters/digits, e.g. MCAC", nameof(settings));
            }

            if (name == "RESC")
            {
                continue;
            }

            if (value.Length == 0 || value.Length > MaxValueLength || value.Any(c => c is ';' or '=' || char.IsWhiteSpace(c) || c > 0x7E))
            {
                throw new ArgumentException($"DP5 command {name}: value '{rawValue}' must be 1–{MaxValueLength} printable ASCII characters without ';', '=' or spaces", nameof(settings));
            }

            if (!allowHazardous && HazardousCommands.Contains(name))
            {
                throw new ArgumentException($"DP5 command {name} sets detector high voltage/cooling and is refused: the profile must set \"AllowHighVoltageCommands\": true to send it", nameof(settings));
            }

            commands.Add((Order(name), index++, $"{name}={value};"));
        }

        var ordered = commands.OrderBy(c => c.Order).ThenBy(c => c.Index).Select(c => c.Text);
        var payloads = new List<string>();
        var current = new StringBuilder(resetFirst ? "RESC=Y;" : string.Empty);
        foreach (var command in ordered)
        {
            if (current.Length + command.Length > Dp5Packet.MaxRequestDataLength)
            {
                payloads.Add(current.ToString());
                current.Clear();
            }

            current.Append(command);
        }

        if (current.Length > 0)
        {
            payloads.Add(current.ToString());
        }

        return payloads;
    }

    /// <summary>Read-back request payloads (<c>NAME;NAME;…</c>), at most 32 names each (as ckoern's driver batches) to keep replies small.</summary>
    public static IReadOnlyList<string> BuildReadBackPayloads(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return names.Select(n => n.Trim().ToUpperInvariant()).Distinct().Chunk(32)
            .Select(chunk => string.Concat(chunk.Select(n => n + ";"))).ToList();
    }

    /// <summary>Parses read-back text <c>MCAC=1024;GAIN=7.005;</c> into name → value; <c>??</c> marks an unknown command.</summary>
    /// <exception cref="FormatException">A fragment without '='.</exception>
    public static IReadOnlyDictionary<string, string> ParseReadBack(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"DP5 read-back fragment '{part}' is not NAME=value");
            }

            result[part[..eq]] = part[(eq + 1)..];
        }

        return result;
    }

    /// <summary>The guide's ORDER column; unlisted commands go after RTDE, SOFF after MCAC.</summary>
    public static int Order(string name) => name switch
    {
        "RESC" => 1,
        "CLCK" => 2,
        "TPEA" => 3,
        "GAIN" or "GAIA" or "GAIF" or "RESL" or "TFLA" or "TPFA" => 4,
        "RTDE" => 5,
        "MCAS" or "RTDD" or "RTDW" => 6,
        "MCAC" => 7,
        "SOFF" => 8,
        _ => 6,
    };
}

namespace XrfEdge.Devices.Formats;

/// <summary>
/// The energy units every reader accepts, in one place so that a unit read in one format is read alike in the others:
/// keV, eV and MeV, in any case (files write "keV", "KEV", "ev"). Inside a label or column name ("Energy (keV)",
/// <c>LABEL - keV;</c>) a unit counts only as a whole word, a run of letters: "MeV" contains "eV" and was read as eV.
/// </summary>
internal static class EnergyUnits
{
    /// <summary>keV per unit of <paramref name="unit"/> (keV 1, eV 0.001, MeV 1000), or null when it is no energy unit.</summary>
    public static double? KeVPerUnit(ReadOnlySpan<char> unit)
    {
        var trimmed = unit.Trim();
        return trimmed.Equals("keV", StringComparison.OrdinalIgnoreCase) ? 1.0
            : trimmed.Equals("eV", StringComparison.OrdinalIgnoreCase) ? 0.001
            : trimmed.Equals("MeV", StringComparison.OrdinalIgnoreCase) ? 1000.0
            : null;
    }

    /// <summary>The words of a label or column name in upper case: its runs of letters ("Energy (keV)" → ENERGY, KEV).</summary>
    public static string[] Words(string text)
    {
        var words = new List<string>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var letter = i < text.Length && char.IsLetter(text[i]);
            if (letter && start < 0)
            {
                start = i;
            }
            else if (!letter && start >= 0)
            {
                words.Add(text[start..i].ToUpperInvariant());
                start = -1;
            }
        }

        return [.. words];
    }

    /// <summary>
    /// keV per unit of the one energy unit among <paramref name="words"/>; null when they name none, or two that differ
    /// ("keV/eV" says nothing usable).
    /// </summary>
    public static double? KeVPerUnitIn(IEnumerable<string> words)
    {
        var units = words.Select(w => KeVPerUnit(w)).OfType<double>().Distinct().Take(2).ToArray();
        return units.Length == 1 ? units[0] : null;
    }

    /// <summary>Whether <paramref name="word"/> (upper case) is a name for a channel: CHANNEL, CHANNELS, CHAN, CH, CHNL.</summary>
    public static bool IsChannelWord(string word) => word is "CHANNEL" or "CHANNELS" or "CHAN" or "CH" or "CHNL";
}

namespace XrfEdge.Devices.Formats;

/// <summary>
/// The time units the readers accept beside a live or real time, in one place as <see cref="EnergyUnits"/> is for
/// energies: seconds (EMSA/MAS's <c>-s</c>, ISO 22029, and the spellings writers use for it: <c>sec</c>, <c>secs</c>,
/// <c>second</c>, <c>seconds</c>) and milliseconds (<c>ms</c>, <c>msec</c>, <c>msecs</c>, <c>millisecond</c>,
/// <c>milliseconds</c>), in any case. Anything else, minutes included (<c>m</c> may be metres or minutes), is no unit a
/// reader converts, so a time in it is an error rather than a value read in the wrong unit.
/// </summary>
internal static class TimeUnits
{
    /// <summary>Seconds per unit of <paramref name="unit"/> (seconds 1, milliseconds 0.001), or null when it is neither.</summary>
    public static double? SecondsPerUnit(ReadOnlySpan<char> unit)
    {
        var trimmed = unit.Trim();
        foreach (var seconds in (ReadOnlySpan<string>)["s", "sec", "secs", "second", "seconds"])
        {
            if (trimmed.Equals(seconds, StringComparison.OrdinalIgnoreCase))
            {
                return 1.0;
            }
        }

        foreach (var milliseconds in (ReadOnlySpan<string>)["ms", "msec", "msecs", "millisecond", "milliseconds"])
        {
            if (trimmed.Equals(milliseconds, StringComparison.OrdinalIgnoreCase))
            {
                return 0.001;
            }
        }

        return null;
    }
}

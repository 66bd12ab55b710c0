using System.Globalization;

namespace XrfEdge.Service.Systemd;

/// <summary>What systemd tells a service through its environment (systemd.exec(5), sd_watchdog_enabled(3)).</summary>
internal static class SystemdEnvironment
{
    /// <summary>True when stdout goes to the journal: systemd sets <c>INVOCATION_ID</c> for every unit and <c>JOURNAL_STREAM</c> when stdout/stderr are journal streams.</summary>
    public static bool IsJournalConsole(Func<string, string?> getVariable) =>
        !string.IsNullOrEmpty(getVariable("JOURNAL_STREAM")) || !string.IsNullOrEmpty(getVariable("INVOCATION_ID"));

    /// <summary>
    /// The watchdog timeout from <c>WATCHDOG_USEC</c> (set by <c>WatchdogSec=</c>), or null when the watchdog is off or
    /// is meant for another process (<c>WATCHDOG_PID</c> ≠ our PID).
    /// </summary>
    public static TimeSpan? WatchdogTimeout(Func<string, string?> getVariable, int processId)
    {
        string? usec = getVariable("WATCHDOG_USEC");
        if (!ulong.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong microseconds) || microseconds == 0)
        {
            return null;
        }

        string? pid = getVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out int owner) || owner != processId))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(microseconds);
    }
}

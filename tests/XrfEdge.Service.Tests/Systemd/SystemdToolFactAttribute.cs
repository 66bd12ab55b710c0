namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// A fact that is skipped, with the reason, where one of systemd's offline tools (<c>systemd-sysusers</c>,
/// <c>systemctl</c>) is not installed (xunit 2 has no dynamic skip).
/// </summary>
public sealed class SystemdToolFactAttribute : FactAttribute
{
    public SystemdToolFactAttribute(params string[] tools)
    {
        string[] missing = tools.Where(tool => Find(tool) is null).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"{string.Join(", ", missing)} not found on PATH (install the systemd package)";
        }
    }

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? Find(string tool) => Environment.GetEnvironmentVariable("PATH")?
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, tool))
        .FirstOrDefault(File.Exists);
}

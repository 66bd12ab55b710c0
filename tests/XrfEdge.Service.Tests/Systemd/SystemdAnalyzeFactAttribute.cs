namespace XrfEdge.Service.Tests.Systemd;

/// <summary>A fact that is skipped, with the reason, where <c>systemd-analyze</c> is not installed (xunit 2 has no dynamic skip).</summary>
public sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public SystemdAnalyzeFactAttribute()
    {
        if (Path is null)
        {
            Skip = "systemd-analyze not found on PATH (install the systemd package to verify the unit file)";
        }
    }

    public static string? Path { get; } = Environment.GetEnvironmentVariable("PATH")?
        .Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "systemd-analyze"))
        .FirstOrDefault(File.Exists);
}

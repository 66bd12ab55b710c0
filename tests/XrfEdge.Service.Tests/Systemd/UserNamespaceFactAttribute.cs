using System.Diagnostics;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// A fact that is skipped, with the reason, where this machine cannot give an unprivileged user a user and mount
/// namespace (<c>unshare -rm</c>: util-linux missing, or user namespaces turned off), in which a script that must run as
/// root on the running system can be run against folders mounted over /opt and /etc that vanish with it.
/// </summary>
public sealed class UserNamespaceFactAttribute : FactAttribute
{
    public UserNamespaceFactAttribute()
    {
        if (SystemdToolFactAttribute.Find("unshare") is null)
        {
            Skip = "unshare not found on PATH (install util-linux)";
            return;
        }

        using var probe = Process.Start(new ProcessStartInfo("unshare", ["-rm", "true"]) { RedirectStandardError = true, UseShellExecute = false })!;
        string error = probe.StandardError.ReadToEnd();
        probe.WaitForExit();
        if (probe.ExitCode != 0)
        {
            Skip = $"unshare -rm failed (user namespaces not allowed here): {error.Trim()}";
        }
    }
}

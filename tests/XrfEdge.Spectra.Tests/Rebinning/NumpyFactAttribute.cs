using System.Diagnostics;

namespace XrfEdge.Spectra.Tests.Rebinning;

/// <summary>A fact that is skipped, saying why, when Debian's /usr/bin/python3 cannot import numpy or the checkout is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NumpyFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(FindReason);

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when numpy is not available.</summary>
    public NumpyFactAttribute()
    {
        if (Reason.Value is { } reason)
        {
            Skip = reason;
        }
    }

    private static string? FindReason()
    {
        if (RepositoryRoot.Path is null)
        {
            return "repository root (XrfEdge.sln) not found above the test binaries";
        }

        if (!File.Exists("/usr/bin/python3"))
        {
            return "/usr/bin/python3 is absent; install python3-numpy (scripts/install-deps.sh)";
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import numpy"])
            {
                RedirectStandardError = true,
            })!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : "/usr/bin/python3 cannot import numpy; install python3-numpy (scripts/install-deps.sh)";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return "/usr/bin/python3 cannot be started: " + ex.Message;
        }
    }
}

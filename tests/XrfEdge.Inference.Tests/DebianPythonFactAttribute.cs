using System.Collections.Concurrent;
using System.Diagnostics;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// A fact that is skipped, saying why, when Debian's /usr/bin/python3 cannot import <see cref="Module"/> (installed as
/// the Debian package python3-<i>module</i> by scripts/install-deps.sh) or the checkout is absent.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class DebianPythonFactAttribute : FactAttribute
{
    private static readonly ConcurrentDictionary<string, Lazy<string?>> Reasons = new(StringComparer.Ordinal);

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when <paramref name="module"/> is not available.</summary>
    /// <param name="module">The Python module the test imports: xraylib, numpy.</param>
    public DebianPythonFactAttribute(string module)
    {
        Module = module;
        if (Reasons.GetOrAdd(module, m => new Lazy<string?>(() => FindReason(m))).Value is { } reason)
        {
            Skip = reason;
        }
    }

    /// <summary>The Python module the test needs.</summary>
    public string Module { get; }

    private static string? FindReason(string module)
    {
        if (RepositoryRoot.Path is null)
        {
            return "repository root (XrfEdge.sln) not found above the test binaries";
        }

        if (!File.Exists("/usr/bin/python3"))
        {
            return $"/usr/bin/python3 is absent; install python3-{module} (scripts/install-deps.sh)";
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import " + module])
            {
                RedirectStandardError = true,
            })!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"/usr/bin/python3 cannot import {module}; install python3-{module} (scripts/install-deps.sh)";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return "/usr/bin/python3 cannot be started: " + ex.Message;
        }
    }
}

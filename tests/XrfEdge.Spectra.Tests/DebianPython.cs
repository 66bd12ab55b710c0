using System.Diagnostics;

namespace XrfEdge.Spectra.Tests;

/// <summary>Runs a script on Debian's /usr/bin/python3 with the checkout's training/ folder as its argument.</summary>
internal static class DebianPython
{
    /// <summary>
    /// Runs <paramref name="script"/> (<c>python3 -c</c>, <c>sys.argv[1]</c> = training/), writes <paramref name="input"/> to
    /// its standard input and returns its standard output; asserts exit 0, naming <paramref name="what"/> and stderr.
    /// </summary>
    public static string Run(string script, string input, string what)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", script, Path.Combine(RepositoryRoot.Require(), "training")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, what + " failed: " + error.Result);
        return output.Result;
    }
}

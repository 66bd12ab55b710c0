using System.Diagnostics;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>
/// Starts the real <c>xrfedge</c> CLI (the build output next to the tests) as a child process with stdout and stderr
/// redirected, for the tests that send it a signal. The one place such children are started, so that each gets SIGINT
/// with its default disposition whatever the test run inherited.
/// </summary>
/// <remarks>
/// A test run started as a background job of a non-interactive shell (<c>(make test &gt; log &amp;)</c>, as some CI runners
/// start jobs) inherits SIGINT ignored (POSIX: a shell without job control ignores SIGINT and SIGQUIT in asynchronous
/// commands; <c>SigIgn</c> bit 2 in <c>/proc/self/status</c>). An ignored signal stays ignored across exec, and .NET
/// keeps an inherited-ignored SIGINT ignored (a <c>PosixSignalRegistration</c> for it never fires), so every Ctrl-C test
/// then saw its child run on as if it had never been signalled. <c>env --default-signal=INT</c> (coreutils ≥ 8.31)
/// resets it before exec'ing <c>dotnet</c>; the child keeps env's process id, which the tests signal.
/// </remarks>
internal static class XrfEdgeProcess
{
    /// <summary>The start info for <c>xrfedge ARGS…</c> with SIGINT at its default disposition.</summary>
    public static ProcessStartInfo StartInfo(params IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "xrfedge.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>Starts <c>xrfedge ARGS…</c> (see <see cref="StartInfo"/>).</summary>
    public static Process Start(params IEnumerable<string> args) =>
        Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("xrfedge did not start");
}

using System.Diagnostics;
using System.Runtime.Versioning;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// scripts/install-activate.sh, the steps install.sh runs last on the running system (user, groups, udev, systemd, and
/// with <c>--start</c> the restart). They need root and a real systemd, so they run here with stand-ins: every command
/// the script calls is one fake that records its name and arguments, and PATH holds nothing else, so a command without
/// a stand-in fails (exit 127) instead of changing this machine. The fake's answers (systemctl's exit codes) come from
/// the environment. What is pinned is the order of the calls: since 2026-11-24 <c>--start</c> clears a give-up
/// (reset-failed) before the restart, which systemd otherwise refuses for the rest of StartLimitIntervalSec, and the
/// install never touches xrfedge-retry.timer, which only the unit arms (OnFailure=) and disarms (ExecStartPre=).
/// </summary>
public sealed partial class InstallScriptTests
{
    /// <summary>The commands install-activate.sh runs, each replaced by the recording fake.</summary>
    private static readonly string[] ActivationCommands = ["id", "getent", "groupadd", "useradd", "usermod", "stat", "chgrp", "udevadm", "systemctl"];

    [Theory]
    [InlineData(0)] // a unit that had given up: reset-failed clears its start counter
    [InlineData(1)] // reset-failed refused (systemctl exits 1 for a unit it has not loaded): the restart must still come
    [SupportedOSPlatform("linux")]
    public void Activate_WithStart_ReloadsEnablesClearsAGiveUpThenRestartsAndShowsTheStatus(int resetFailedExit)
    {
        var (exitCode, output, calls) = Activate(new() { ["FAKE_RESET_FAILED_EXIT"] = resetFailedExit.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "--start");

        Assert.True(exitCode == 0, $"install-activate.sh exit {exitCode}:\n{output}");
        string[] systemctl = [.. calls.Where(call => call.StartsWith("systemctl ", StringComparison.Ordinal))];
        Assert.Equal(
            ["systemctl daemon-reload", "systemctl enable xrfedge.service", "systemctl reset-failed xrfedge.service",
             "systemctl restart xrfedge.service", "systemctl --no-pager status xrfedge.service"],
            systemctl);
        Assert.True(calls.FindIndex(call => call.StartsWith("udevadm settle", StringComparison.Ordinal)) < calls.IndexOf("systemctl restart xrfedge.service"),
            "the restart came before udev had given the device nodes their groups:\n" + string.Join('\n', calls));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Activate_WithStartWhenTheRestartFails_StillShowsTheStatusAndExits1()
    {
        var (exitCode, output, calls) = Activate(new() { ["FAKE_RESTART_EXIT"] = "1" }, "--start");

        Assert.True(exitCode == 1, $"install-activate.sh exit {exitCode}:\n{output}");
        Assert.True(calls.IndexOf("systemctl restart xrfedge.service") < calls.IndexOf("systemctl --no-pager status xrfedge.service"), string.Join('\n', calls));
        Assert.Contains("did not start (systemctl restart exit 1)", output, StringComparison.Ordinal);
        Assert.Contains("journalctl -u xrfedge", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "1", "keeps the previous release until")] // running: a restart is the operator's call
    [InlineData("3", "0", "had given up (failed)")] // failed: say how to start it now, or that the retry timer will
    [InlineData("3", "1", "installed and enabled")] // a first install: stopped
    [SupportedOSPlatform("linux")]
    public void Activate_WithoutStart_StartsNothingAndSaysWhatTheServiceRuns(string isActiveExit, string isFailedExit, string expected)
    {
        var (exitCode, output, calls) = Activate(new() { ["FAKE_IS_ACTIVE_EXIT"] = isActiveExit, ["FAKE_IS_FAILED_EXIT"] = isFailedExit });

        Assert.True(exitCode == 0, $"install-activate.sh exit {exitCode}:\n{output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain(calls, call => call.Contains("restart", StringComparison.Ordinal) || call.Contains("reset-failed", StringComparison.Ordinal)
            || call.StartsWith("systemctl start", StringComparison.Ordinal));
        if (isFailedExit == "0")
        {
            Assert.Contains("reset-failed xrfedge && sudo systemctl start xrfedge", output, StringComparison.Ordinal);
            Assert.Contains("retry timer", output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--start")]
    [InlineData(null)]
    [SupportedOSPlatform("linux")]
    public void Activate_NeverEnablesOrStartsTheRetryTimer(string? argument)
    {
        // Enabled, the timer would start the service 10 min after every boot; started by the install, it would fire on a
        // schedule no give-up set. Only the unit's OnFailure= arms it and its ExecStartPre= disarms it (docs/deploy.md §4).
        var (exitCode, output, calls) = Activate([], argument is null ? [] : [argument]);

        Assert.True(exitCode == 0, $"install-activate.sh exit {exitCode}:\n{output}");
        Assert.Contains("systemctl enable xrfedge.service", calls);
        Assert.DoesNotContain(calls, call => call.Contains("retry", StringComparison.Ordinal));
    }

    /// <summary>
    /// Runs scripts/install-activate.sh with <paramref name="arguments"/> and only the recording fake on PATH, its answers
    /// set by <paramref name="answers"/>; returns the exit code, the output and the calls (name and arguments) in order.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private (int ExitCode, string Output, List<string> Calls) Activate(Dictionary<string, string> answers, params string[] arguments)
    {
        string tools = Path.Combine(_root, "fake system tools");
        Directory.CreateDirectory(tools);
        string log = Path.Combine(_root, "calls.log");
        string fake = Path.Combine(_root, "fake");
        File.WriteAllText(fake, """
            #!/bin/sh
            # A stand-in for each command install-activate.sh runs: records the call, answers as FAKE_* say.
            name="${0##*/}"
            echo "$name $*" >> "$FAKE_LOG"
            case "$name $*" in
              "id -u") echo 0 ;;
              "stat "*) echo root ;;
              "systemctl reset-failed "*) exit "${FAKE_RESET_FAILED_EXIT:-0}" ;;
              "systemctl restart "*) exit "${FAKE_RESTART_EXIT:-0}" ;;
              "systemctl --quiet is-active "*) exit "${FAKE_IS_ACTIVE_EXIT:-3}" ;;
              "systemctl --quiet is-failed "*) exit "${FAKE_IS_FAILED_EXIT:-1}" ;;
              "systemctl --no-pager status "*) echo "xrfedge.service - XrfEdge XRF analyser service" ;;
            esac
            exit 0
            """ + "\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (string command in ActivationCommands)
        {
            File.CreateSymbolicLink(Path.Combine(tools, command), fake);
        }

        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(RepositoryRoot.Combine("scripts", "install-activate.sh"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PATH"] = tools;
        start.Environment["FAKE_LOG"] = log;
        foreach (var (key, value) in answers)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        List<string> calls = File.Exists(log) ? [.. File.ReadAllLines(log)] : [];
        return (process.ExitCode, stdout.Result + stderr, calls);
    }
}

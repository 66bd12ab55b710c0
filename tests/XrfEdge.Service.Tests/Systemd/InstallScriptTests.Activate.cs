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

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Activate_WithoutStartWhileTheUnitWaitsToRestart_SaysItsNextRestartRunsThisRelease()
    {
        // 'activating (auto-restart)': it failed and waits RestartSec before systemd starts it again. Neither is-active nor
        // is-failed holds, so it was told "installed and enabled … then: sudo systemctl start xrfedge", as after a first
        // install, though it is already enabled and will start this release by itself within seconds.
        var (exitCode, output, calls) = Activate(new() { ["FAKE_IS_ACTIVE_EXIT"] = "3", ["FAKE_IS_FAILED_EXIT"] = "1", ["FAKE_ACTIVE_STATE"] = "activating", ["FAKE_SUB_STATE"] = "auto-restart" });

        Assert.True(exitCode == 0, $"install-activate.sh exit {exitCode}:\n{output}");
        Assert.Contains("auto-restart", output, StringComparison.Ordinal);
        Assert.Contains("next automatic restart runs this release", output, StringComparison.Ordinal);
        Assert.Contains("journalctl -u xrfedge", output, StringComparison.Ordinal);
        Assert.DoesNotContain("installed and enabled", output, StringComparison.Ordinal);
        Assert.DoesNotContain(calls, call => call.Contains("restart xrfedge", StringComparison.Ordinal) || call.StartsWith("systemctl start", StringComparison.Ordinal));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Activate_WithoutStartWhileTheUnitIsStarting_SaysItStartsThePreviousRelease()
    {
        // 'activating (start-pre)' or 'activating (start)' before READY=1: the process was exec'd from the old files, so
        // "then: sudo systemctl start xrfedge" (a no-op now) would leave the previous release running.
        var (exitCode, output, _) = Activate(new() { ["FAKE_IS_ACTIVE_EXIT"] = "3", ["FAKE_IS_FAILED_EXIT"] = "1", ["FAKE_ACTIVE_STATE"] = "activating", ["FAKE_SUB_STATE"] = "start" });

        Assert.True(exitCode == 0, $"install-activate.sh exit {exitCode}:\n{output}");
        Assert.Contains("starting the previous release", output, StringComparison.Ordinal);
        Assert.Contains("sudo systemctl restart xrfedge", output, StringComparison.Ordinal);
        Assert.DoesNotContain("installed and enabled", output, StringComparison.Ordinal);
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

    [UserNamespaceFact]
    [SupportedOSPlatform("linux")]
    public void Install_OnTheRunningSystemWithStart_RunsTheActivationWithStartWhileHoldingTheLock()
    {
        // install.sh without DESTDIR, as `sudo make install` runs it, in a user and mount namespace: root there, with
        // folders of this test mounted over /opt and /etc, so nothing of this machine changes. The checkout's
        // install-activate.sh is a stand-in that records its arguments and whether the install's lock on /opt is held.
        string checkout = CopyCheckout("checkout", "pi-dp5-uart.json");
        string log = Path.Combine(_root, "activation.log");
        File.WriteAllText(Path.Combine(checkout, "scripts", "install-activate.sh"), """
            #!/bin/bash
            echo "arguments: $*" >> "$FAKE_LOG"
            if flock -n /opt true; then echo "lock: free" >> "$FAKE_LOG"; else echo "lock: held" >> "$FAKE_LOG"; fi
            """ + "\n");
        string opt = Directory.CreateDirectory(Path.Combine(_root, "mounted over opt")).FullName;
        string etc = Directory.CreateDirectory(Path.Combine(_root, "mounted over etc")).FullName;
        var start = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "-rm", "bash", "-c", """
            set -e
            mount --bind "$FAKE_OPT" /opt
            cp -a /etc/. "$FAKE_ETC/" 2>/dev/null || true
            mount --bind "$FAKE_ETC" /etc
            exec bash "$INSTALL" --skip-preflight --start
            """ })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("DESTDIR");
        start.Environment.Remove("SUDO_USER");
        start.Environment["XRFEDGE_PREBUILT"] = Build;
        start.Environment["INSTALL"] = Path.Combine(checkout, "scripts", "install.sh");
        start.Environment["FAKE_OPT"] = opt;
        start.Environment["FAKE_ETC"] = etc;
        start.Environment["FAKE_LOG"] = log;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, $"install.sh exit {process.ExitCode}:\n{stdout.Result}{stderr}");
        Assert.Equal("release 1", File.ReadAllText(Path.Combine(opt, "xrfedge", "xrfedge.dll")));
        Assert.Equal(["arguments: --start", "lock: held"], File.ReadAllLines(log));
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
              "systemctl show -p SubState "*) echo "${FAKE_SUB_STATE:-dead}" ;;
              "systemctl show -p ActiveState "*) echo "${FAKE_ACTIVE_STATE:-inactive}" ;;
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

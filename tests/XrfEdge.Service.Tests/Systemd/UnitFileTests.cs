using System.Diagnostics;
using System.Text.RegularExpressions;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Options;

namespace XrfEdge.Service.Tests.Systemd;

public sealed partial class UnitFileTests
{
    private static readonly string Unit = RepositoryRoot.Combine("systemd", "xrfedge.service");

    /// <summary>The example drop-in for an MCA on the mini-UART (docs/deploy.md §4), shipped inactive.</summary>
    private static readonly string TtyS0DropIn = RepositoryRoot.Combine("systemd", "mca-on-ttyS0.conf");

    /// <summary>The timer that starts the unit again after it gave up (docs/deploy.md §4, "Restarts").</summary>
    private static readonly string RetryTimer = RepositoryRoot.Combine("systemd", "xrfedge-retry.timer");

    [SystemdAnalyzeFact]
    public void Verify_ShippedUnit_HasNoComplaints()
    {
        // ExecStart points at /opt/xrfedge, which does not exist here; verify the unit against the built binary instead.
        var (exitCode, output) = Verify(File.ReadAllText(Unit));

        Assert.True(exitCode == 0 && output.Length == 0, $"systemd-analyze verify: exit {exitCode}\n{output}");
    }

    [SystemdAnalyzeFact]
    public void Verify_ShippedUnitWithTheTtyS0DropIn_HasNoComplaints()
    {
        var (exitCode, output) = Verify(File.ReadAllText(Unit), File.ReadAllText(TtyS0DropIn));

        Assert.True(exitCode == 0 && output.Length == 0, $"systemd-analyze verify: exit {exitCode}\n{output}");
    }

    [SystemdAnalyzeFact]
    public void Verify_BrokenDropIn_Complains()
    {
        // The control for the drop-in: verify reads <unit>.d/*.conf beside the unit.
        var (_, output) = Verify(File.ReadAllText(Unit), File.ReadAllText(TtyS0DropIn).Replace("DeviceAllow=", "DeviceAllows=", StringComparison.Ordinal));

        Assert.Contains("DeviceAllows", output, StringComparison.Ordinal);
    }

    [SystemdAnalyzeFact]
    public void Verify_ShippedUnitWithItsRetryTimer_HasNoComplaints()
    {
        var (exitCode, output) = Verify(File.ReadAllText(Unit), timerText: File.ReadAllText(RetryTimer));

        Assert.True(exitCode == 0 && output.Length == 0, $"systemd-analyze verify: exit {exitCode}\n{output}");
    }

    [Fact]
    public void Unit_AfterItsStartLimit_IsStartedAgainByTheRetryTimer()
    {
        // StartLimitBurst=10 in StartLimitIntervalSec=300 left an unattended instrument failed for good after ten quick
        // failed starts (a profile edited badly and fixed, a card that was full for a while) until someone ran
        // `systemctl reset-failed`. RestartSteps= (systemd 254) is unknown to Raspberry Pi OS bookworm's 252 and JetPack
        // 6's 249: a timer that OnFailure= arms does the slow retries instead.
        string unit = File.ReadAllText(Unit);
        string timer = File.ReadAllText(RetryTimer);
        int intervalSeconds = Seconds(unit, "StartLimitIntervalSec");

        Assert.Contains(Path.GetFileName(RetryTimer), Value(unit, "OnFailure").Split(' '));
        Assert.Equal("xrfedge.service", Value(timer, "Unit"));
        // systemd.unit(5): a unit that hit its start limit may be started again "from a timer … after the interval has
        // passed"; sooner, the timer's start is refused too, the unit stays failed, and OnFailure= never fires again.
        Assert.True(Seconds(timer, "OnActiveSec") > intervalSeconds, $"OnActiveSec must exceed StartLimitIntervalSec={intervalSeconds}s");
        // Off: the elapsed timer unloads, so the next failure can start (arm) it again; on, a second start does nothing.
        Assert.Equal("no", Value(timer, "RemainAfterElapse"));
        // `systemctl stop xrfedge` (or disable --now) while a retry is pending stops the timer too: a deliberate stop stays.
        Assert.Equal("xrfedge.service", Value(timer, "PartOf"));
        Assert.DoesNotMatch("(?m)^\\[Install\\]", timer);
    }

    [Fact]
    public void Unit_EveryStartAttempt_DisarmsAPendingRetry()
    {
        // A retry armed by a give-up stayed pending through a start by hand (`systemctl start xrfedge`, as install.sh's own
        // hint says) and fired on its old schedule. After a new give-up its start fell inside the new StartLimitIntervalSec
        // and was refused; the unit stayed failed without entering "failed" anew, OnFailure= (a start of the still-active
        // timer: a no-op) had not re-armed it, and nothing ever started the unit again. A start attempt consumes the
        // pending retry (ExecStartPre=, before the main process can fail), so each give-up arms the timer afresh.
        string unit = File.ReadAllText(Unit);
        string timer = Path.GetFileName(RetryTimer);

        string[] pre = [.. Regex.Matches(unit, "(?m)^ExecStartPre=(.*)$").Select(match => match.Groups[1].Value.Trim())];

        // '+': as root outside the sandbox (User=xrfedge may not stop units); '-': a failure never fails the start.
        Assert.Contains(pre, line => Regex.IsMatch(line, $"^(\\+-|-\\+)systemctl --no-block stop {Regex.Escape(timer)}$"));
    }

    [Fact]
    public void TtyS0DropIn_AllowsTheNodeNotTheMajorItSharesWithTheConsoles()
    {
        // docs/deploy.md §4 told sites to add `DeviceAllow=char-ttyS rw`: systemd allows a char-<group> by major, and
        // ttyS is major 4 with tty0…tty63, so the service could open every virtual console.
        string[] allowed = Regex.Matches(File.ReadAllText(TtyS0DropIn), "(?m)^DeviceAllow=(\\S+)").Select(m => m.Groups[1].Value).ToArray();

        Assert.Equal(["/dev/ttyS0"], allowed);
        Assert.DoesNotMatch("(?m)^DeviceAllow=char-ttyS", File.ReadAllText(Unit));
    }

    [Fact]
    public void Unit_DoesNotWaitForNetworkOnline()
    {
        // The analyser works offline (store-and-forward; MQTT connects and reconnects by itself, DNS failures included):
        // ordering it after network-online.target held an offline instrument's start for the wait-online timeout
        // (systemd-networkd-wait-online: 120 s) with no elements on screen.
        var unit = File.ReadAllText(Unit);

        Assert.DoesNotMatch("(?m)^(Wants|After|Requires)=.*network-online\\.target", unit);
        Assert.Matches("(?m)^After=.*\\bnetwork\\.target\\b", unit);
    }

    [SystemdAnalyzeFact]
    public void Verify_BrokenUnit_Complains()
    {
        // The control: proves the check above can fail.
        var (_, output) = Verify(File.ReadAllText(Unit).Replace("Type=notify", "Type=notify\nWatchdogSecs=30s", StringComparison.Ordinal));

        Assert.Contains("WatchdogSecs", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Unit_TimeoutsAgreeWithShippedProfiles()
    {
        string text = File.ReadAllText(Unit);
        int stopSeconds = Seconds(text, "TimeoutStopSec");
        int watchdogSeconds = Seconds(text, "WatchdogSec");
        Assert.Contains("Type=notify", text, StringComparison.Ordinal);
        Assert.DoesNotMatch("(?m)^MemoryDenyWriteExecute=yes", text); // breaks the .NET JIT
        Assert.Matches("RestrictAddressFamilies=.*AF_UNIX", text); // sd_notify

        foreach (string file in new[] { "simulator.json", "pi-dp5-uart.json", "jetson-spi.json" })
        {
            var settings = ProfileLoader.Bind(ProfileLoader.Build(RepositoryRoot.Combine("firmware-config", file), []));
            Assert.True(settings.Health.StopTimeoutSeconds < stopSeconds, $"{file}: Health:StopTimeoutSeconds must be below TimeoutStopSec={stopSeconds}");
            Assert.True(settings.Health.StallSeconds < watchdogSeconds, $"{file}: Health:StallSeconds must be below WatchdogSec={watchdogSeconds}");
        }
    }

    [Fact]
    public void Unit_WatchdogAbortLeavesNoCoreFileBesideTheOutbox()
    {
        // WatchdogSignal is SIGABRT: without a limit the kernel's default core_pattern writes the dump into the working
        // directory, the outbox's StateDirectory.
        string text = File.ReadAllText(Unit);
        Assert.Matches("(?m)^WatchdogSec=", text);
        Assert.Matches("(?m)^WorkingDirectory=/var/lib/xrfedge$", text);
        Assert.Matches("(?m)^LimitCORE=0$", text);
    }

    [Fact]
    public void Unit_DoesNotRestartTheExitCodeOfAnInvalidProfile_ButRestartsAStartupFailure()
    {
        // House rule: bad configuration must not restart-loop. `xrfedge run` exits RunCommand.InvalidConfiguration for
        // it and RunCommand.StartupFailed for a device/outbox failure, which a restart may cure.
        string text = File.ReadAllText(Unit);
        Assert.Matches("(?m)^Restart=on-failure$", text);
        var prevented = Regex.Match(text, "(?m)^RestartPreventExitStatus=(.+)$").Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(RunCommand.InvalidConfiguration.ToString(System.Globalization.CultureInfo.InvariantCulture), prevented);
        Assert.DoesNotContain(RunCommand.StartupFailed.ToString(System.Globalization.CultureInfo.InvariantCulture), prevented);
    }

    /// <summary>The value of <paramref name="key"/> in a unit file as seconds: <c>300</c>, <c>45s</c> or <c>10min</c>.</summary>
    private static int Seconds(string unit, string key)
    {
        var match = Regex.Match(Value(unit, key), "^(\\d+)(s|min)?$");
        Assert.True(match.Success, $"{key}={Value(unit, key)}: not a whole number of seconds or minutes");
        int number = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return match.Groups[2].Value == "min" ? number * 60 : number;
    }

    private static string Value(string unit, string key) => Regex.Match(unit, $"(?m)^{key}=(.*)$").Groups[1].Value.Trim();

    private static (int ExitCode, string Output) Verify(string unitText, string? dropInText = null, string? timerText = null)
    {
        string folder = Directory.CreateTempSubdirectory("xrfedge-unit-").FullName;
        try
        {
            string path = Path.Combine(folder, "xrfedge.service");
            if (dropInText is not null)
            {
                Directory.CreateDirectory(path + ".d");
                File.WriteAllText(Path.Combine(path + ".d", "drop-in.conf"), dropInText);
            }

            if (timerText is not null)
            {
                File.WriteAllText(Path.Combine(folder, Path.GetFileName(RetryTimer)), timerText);
            }

            File.WriteAllText(path, unitText.Replace("/opt/xrfedge/xrfedge run", Path.Combine(AppContext.BaseDirectory, "xrfedge") + " run", StringComparison.Ordinal));
            var start = new ProcessStartInfo(SystemdAnalyzeFactAttribute.Path!) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("verify");
            start.ArgumentList.Add(path);
            if (timerText is not null)
            {
                start.ArgumentList.Add(Path.Combine(folder, Path.GetFileName(RetryTimer)));
            }

            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Trim());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

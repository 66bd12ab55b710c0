using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>The real <c>xrfedge run</c> under a fake systemd: NOTIFY_SOCKET receiver, WATCHDOG_USEC, SIGTERM.</summary>
public sealed class ServiceNotifyProcessTests
{
    // Start-up includes the JIT and ONNX Runtime's session creation; 30 s is far above the ~1 s it takes, for a loaded CI box.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_UnderSystemd_SendsReadyStatusWatchdogThenStoppingOnSigterm()
    {
        using var profiles = new TestProfiles();
        using var systemd = new NotifyReceiver();
        // No broker on this port: READY must not wait for MQTT (offline is a normal state).
        string profile = profiles.ReplayProfile(TestProfiles.FreePort());
        using var service = new ServiceProcess(profile, [], new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = systemd.Address,
            ["WATCHDOG_USEC"] = "1000000", // WatchdogSec=1s → a ping every 0.5 s
        });

        var ready = systemd.WaitFor("READY=1", Patience);
        Assert.True(ready is not null, "no READY=1; service output:\n" + service.Output);
        Assert.Contains("STATUS=", ready, StringComparison.Ordinal);
        Assert.Contains("offline", ready, StringComparison.Ordinal);
        Assert.NotNull(systemd.WaitFor("WATCHDOG=1", Patience));
        Assert.True(service.WaitForOutput("Detections M-", Patience), "no detections logged:\n" + service.Output);

        service.Terminate();

        Assert.NotNull(systemd.WaitFor("STOPPING=1", Patience));
        Assert.True(service.WaitForExit(Patience, out int exitCode), "did not exit after SIGTERM:\n" + service.Output);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{service.Output}");
    }

    [Fact]
    public void Run_BadProfile_ExitsWithConfigErrorAndNoReady()
    {
        using var profiles = new TestProfiles();
        using var systemd = new NotifyReceiver();
        string profile = profiles.ReplayProfile(TestProfiles.FreePort());
        using var service = new ServiceProcess(profile, ["Acquisition:PresetSeconds=0", "Gpio:Chip=/dev/gpiochip0", "Gpio:Enabled=true", "Gpio:TriggerLine=600"], new Dictionary<string, string> { ["NOTIFY_SOCKET"] = systemd.Address });

        Assert.True(service.WaitForExit(Patience, out int exitCode));

        Assert.Equal(78, exitCode); // EX_CONFIG
        Assert.Contains("Acquisition:PresetSeconds = 0: must be ≥ ", service.Output, StringComparison.Ordinal);
        Assert.Contains("Gpio:TriggerLine = 600: must be a line offset from 0 to 511", service.Output, StringComparison.Ordinal);
        Assert.Null(systemd.WaitFor("READY=1", TimeSpan.FromMilliseconds(200)));
    }
}

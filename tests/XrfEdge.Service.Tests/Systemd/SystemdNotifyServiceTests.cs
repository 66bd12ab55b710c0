using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Systemd;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>The notify service inside the real host (fakes at the edges), against a socket playing systemd.</summary>
public sealed class SystemdNotifyServiceTests
{
    [Fact]
    public async Task Watchdog_OutboxFiguresBlockedOnALock_KeepsPinging()
    {
        // WatchdogSec=0.4 s → a ping every 0.2 s. The outbox depth in STATUS= is read under the outbox's lock, which a
        // store waiting on another process's write lock holds for up to BusyTimeout. The ping loop used to read it
        // right after each ping, so it stopped pinging for as long as the lock was held, and systemd's watchdog killed
        // a service whose pipeline was healthy.
        using var systemd = new NotifyReceiver();
        using var outboxLocked = new ManualResetEventSlim(initialState: true);
        var parts = new FakeComponents();
        parts.Source.Hold = true;
        parts.Publisher.PendingCountSource = () =>
        {
            outboxLocked.Wait();
            return 0;
        };
        using var host = parts.BuildHost(FakeComponents.Settings(MeasurementMode.Triggered, gpio: false), services =>
        {
            services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(SystemdNotifyService)));
            services.AddHostedService(sp => new SystemdNotifyService(
                new SystemdNotifier(systemd.Address),
                sp.GetRequiredService<IHostApplicationLifetime>(),
                sp.GetRequiredService<InstrumentStatus>(),
                sp.GetRequiredService<IResultPublisher>(),
                sp.GetRequiredService<PipelineHealth>(),
                sp.GetRequiredService<ServiceSettings>(),
                TimeProvider.System,
                sp.GetRequiredService<ILogger<SystemdNotifyService>>())
            {
                WatchdogTimeout = TimeSpan.FromMilliseconds(400),
            });
        });
        await host.StartAsync();
        Assert.NotNull(systemd.WaitFor("READY=1", TimeSpan.FromSeconds(10)));
        Assert.NotNull(systemd.WaitFor("WATCHDOG=1", TimeSpan.FromSeconds(10)));

        outboxLocked.Reset();
        int before = Pings();
        // 4 s and at least 4 pings (20 expected): the old loop blocked at its first read and sent at most one, while a
        // loaded CI machine (the whole suite in parallel) was seen to send only 3 in 2 s with the fix.
        await Task.Delay(TimeSpan.FromSeconds(4));
        int during = Pings() - before;
        outboxLocked.Set();
        await host.StopAsync();

        Assert.True(during >= 4, $"{during} WATCHDOG=1 in 4 s while the outbox figures were blocked (one every 0.2 s expected)");

        int Pings()
        {
            lock (systemd.Received)
            {
                return systemd.Received.Count(m => m.Split('\n').Contains("WATCHDOG=1"));
            }
        }
    }

    [Fact]
    public void Stop_UnderSystemd_StoppingAsksForTheStopBudget()
    {
        // Health:StopTimeoutSeconds is validated up to 120 s, but the unit's TimeoutStopSec=45s SIGKILLed any stop that
        // took longer, mid-drain. STOPPING=1 now extends the stop timeout to the configured budget + 5 s.
        using var profiles = new TestProfiles();
        using var systemd = new NotifyReceiver();
        string profile = profiles.ReplayProfile(TestProfiles.FreePort());
        using var service = new ServiceProcess(profile, ["Health:StopTimeoutSeconds=60"], new Dictionary<string, string> { ["NOTIFY_SOCKET"] = systemd.Address });
        Assert.True(systemd.WaitFor("READY=1", TimeSpan.FromSeconds(30)) is not null, "no READY=1:\n" + service.Output);

        service.Terminate();

        var stopping = systemd.WaitFor("STOPPING=1", TimeSpan.FromSeconds(30));
        Assert.NotNull(stopping);
        Assert.Contains("EXTEND_TIMEOUT_USEC=65000000", stopping.Split('\n')); // (60 + 5) s in µs
        Assert.True(service.WaitForExit(TimeSpan.FromSeconds(30), out _), service.Output);
    }
}

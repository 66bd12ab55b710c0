using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Simulation;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>
/// The service's DP5 source as the product builds it (<see cref="ProductionComponents"/>: Dp5SpectrumSource, Dp5Session,
/// the termios SerialPort) on a pty whose slave is symlinked where the profile's device path points, as udev links
/// /dev/serial/by-id/…; the simulated DP5 serves the master end (<see cref="SimulatedMcaHost"/>). Analysis and
/// publishing are the in-memory fakes. Review 2026-11-24: an analyser meets a DP5 that is switched on, or whose
/// USB-serial adapter is plugged in, after the service started.
/// </summary>
public sealed class Dp5LinkServiceTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-dp5-link-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The real DP5 source; the fakes' analyzer, publisher and (GPIO off) instrument I/O.</summary>
    private sealed class Dp5Components(FakeComponents fakes) : IPipelineComponents
    {
        public ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services) => new ProductionComponents().CreateSource(settings, services);

        public ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services) => fakes.CreateAnalyzer(settings, services);

        public IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services) => fakes.CreatePublisher(settings, services);

        public IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services) => fakes.CreateInstrumentIo(settings, services);
    }

    private static IHost BuildHost(FakeComponents fakes, ServiceSettings settings, MemoryLogProvider? logs = null) =>
        ServiceHostFactory.Build(settings, new ConfigurationBuilder().Build(), new Dp5Components(fakes), services => services.AddLogging(l =>
        {
            l.ClearProviders();
            if (logs is not null)
            {
                l.AddProvider(logs);
            }
        }));

    /// <summary>
    /// A DP5 profile on <paramref name="device"/>: 1024 channels with the simulator's calibration (30 keV over MCAC,
    /// offset −0.02 keV, docs/acquisition.md "Simulated MCA"), a 0.5 s preset, and a quick reconnect (2 × 100 ms) so a
    /// missing device is reported within a second.
    /// </summary>
    private static ServiceSettings Settings(string device)
    {
        var settings = FakeComponents.Settings(gpio: false);
        settings.Acquisition.Source = AcquisitionSource.Mca;
        settings.Acquisition.Protocol = "dp5";
        settings.Acquisition.Device = device;
        settings.Acquisition.PresetSeconds = 0.5;
        settings.Acquisition.Configuration["MCAC"] = "1024";
        settings.Acquisition.ReplyTimeoutMilliseconds = 500;
        settings.Acquisition.MaxAttempts = 3;
        settings.Acquisition.ReconnectAttempts = 2;
        settings.Acquisition.ReconnectDelayMilliseconds = 100;
        settings.Acquisition.PollIntervalMilliseconds = 50;
        settings.Calibration.OffsetKeV = -0.02;
        settings.Calibration.GainKeVPerChannel = 30.0 / 1024;
        return settings;
    }

    [Fact]
    public async Task Start_Dp5NotYetPluggedIn_ComesUpShowingTheFaultAndMeasuresOnceItIsThere()
    {
        var link = Path.Combine(_folder, "ttyDP5");
        var fakes = new FakeComponents();
        using var host = BuildHost(fakes, Settings(link));

        // Until 2026-11-24 this threw (FileNotFoundException naming the path) and the process exited 1; systemd's
        // restarts then hit the unit's start limit (StartLimitBurst=10 in 300 s) and the analyser stayed down.
        await host.StartAsync();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        Assert.Equal(ServiceState.Fault, status.State);
        Assert.Contains(link, status.LastError, StringComparison.Ordinal);

        await using var dp5 = await ServedDp5.StartAsync(link);

        host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");

        await AssertOneCompletedResultAsync(fakes);
        Assert.Equal("1024", dp5.Device.Configuration["MCAC"]); // the profile was applied when the DP5 first answered
        Assert.Equal(ServiceState.Idle, status.State);
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_AutoStartContinuous_Dp5SwitchedOnLater_StartsMeasuringByItself()
    {
        // An unattended monitor (AutoStart, Continuous) whose DP5 is switched on after the service. Until 2026-11-24 the
        // start-up failed and a restart auto-started once the DP5 answered; since the service stays up instead, its one
        // auto-start must not be spent on a measurement that fails because the DP5 is not there yet.
        var link = Path.Combine(_folder, "ttyDP5");
        var settings = Settings(link);
        settings.Acquisition.AutoStart = true;
        settings.Acquisition.Mode = MeasurementMode.Continuous;
        var fakes = new FakeComponents();
        using var host = BuildHost(fakes, settings);
        await host.StartAsync();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        Assert.Equal(ServiceState.Fault, status.State);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the DP5 comes a while after the service

        await using var dp5 = await ServedDp5.StartAsync(link);

        // No start request: the auto-start is still the one that runs.
        Assert.True(
            await fakes.Publisher.WaitUntilAsync(p => p.Results.Any(r => r.Outcome == MeasurementOutcome.Completed)),
            "no measurement completed after the DP5 came: " + string.Join("; ", fakes.Publisher.Results.Select(r => $"{r.Outcome}: {r.Reason}")));
        Assert.Equal(MeasurementOutcome.Completed, fakes.Publisher.Results[0].Outcome); // none failed for want of the DP5
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_Dp5HeldBusyByAnotherInterface_ComesUpShowingTheFaultAndMeasuresOnceFree()
    {
        // A DP5 answering ACK 0x0D "busy" (another interface in use; guide rev A7 Table 3) beyond the session's 2.5 s
        // back-off, e.g. the vendor's DppMCA on its USB port while the analyser boots: it is there and will be free,
        // so, like an absent one, it must not fail start-up.
        var link = Path.Combine(_folder, "ttyDP5");
        var device = new SimulatedDp5(new SimulatedDp5Options { Seed = 1 }, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        device.AnswerBusy(long.MaxValue);
        using var stop = new CancellationTokenSource();
        var mca = new SimulatedMcaHost(device, link, TimeProvider.System);
        var serving = mca.RunAsync(stop.Token);
        await mca.Ready.WaitAsync(Patience);
        var fakes = new FakeComponents();
        using var host = BuildHost(fakes, Settings(link));

        await host.StartAsync();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        Assert.Equal(ServiceState.Fault, status.State);
        Assert.Contains("busy", status.LastError, StringComparison.Ordinal);

        device.AnswerBusy(0);
        host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");
        await AssertOneCompletedResultAsync(fakes);
        await host.StopAsync();
        await stop.CancelAsync();
        await serving;
    }

    [Fact]
    public async Task Measure_AdapterPulledAndReplugged_WorkerStaysAliveForTheWatchdogWhileTheSessionReconnects()
    {
        // The profile allows 20 reopen attempts 250 ms apart (5 s); the adapter comes back after 4 s. Health:StallSeconds
        // is 1 s, so a busy allowance of preset + reply time-outs (1 s + 3 × 0.5 s) + 1 s = 3.5 s, what the worker gave
        // itself until 2026-11-24, is spent during the reconnect: systemd's watchdog would have killed the service
        // (SIGABRT) in the middle of a recovery the profile allows.
        var link = Path.Combine(_folder, "ttyDP5");
        var settings = Settings(link);
        settings.Acquisition.PresetSeconds = 1;
        settings.Acquisition.ReconnectAttempts = 20;
        settings.Acquisition.ReconnectDelayMilliseconds = 250;
        settings.Health.StallSeconds = 1;
        var fakes = new FakeComponents();
        var device = new SimulatedDp5(new SimulatedDp5Options { Seed = 1 }, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        using var firstStop = new CancellationTokenSource();
        var first = new SimulatedMcaHost(device, link, TimeProvider.System);
        var firstServing = first.RunAsync(firstStop.Token);
        await first.Ready.WaitAsync(Patience);
        using var host = BuildHost(fakes, settings);
        await host.StartAsync();
        var health = host.Services.GetRequiredService<PipelineHealth>();

        host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");
        Assert.True(await EventuallyAsync(() => device.McaEnabled), "the measurement never enabled the MCA");
        await firstStop.CancelAsync(); // the pty closes and its link goes: the adapter is pulled
        await firstServing;
        using var secondStop = new CancellationTokenSource();
        var replugged = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            await new SimulatedMcaHost(device, link, TimeProvider.System).RunAsync(secondStop.Token);
        });

        string? problem = null;
        while (fakes.Publisher.Results.Count == 0 && problem is null)
        {
            _ = health.IsAlive(out problem);
            await Task.Delay(20);
        }

        Assert.Null(problem);
        await AssertOneCompletedResultAsync(fakes);
        await host.StopAsync();
        await secondStop.CancelAsync();
        await replugged;
    }

    [Fact]
    public async Task Idle_AdapterPulledBetweenMeasurements_PortClosedWithinSecondsAndNextMeasurementReconnects()
    {
        // usb-serial and cdc-acm keep a tty's number until its last descriptor closes: an adapter plugged back in while
        // the service still holds /dev/ttyUSB0 comes up as ttyUSB1 (drivers/usb/serial/usb-serial.c, allocate_minors /
        // release_minors). Until 2026-11-24 the service noticed a pull only at the next measurement, however much later.
        var link = Path.Combine(_folder, "ttyDP5");
        var device = new SimulatedDp5(new SimulatedDp5Options { Seed = 1 }, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        using var firstStop = new CancellationTokenSource();
        var first = new SimulatedMcaHost(device, link, TimeProvider.System);
        var firstServing = first.RunAsync(firstStop.Token);
        await first.Ready.WaitAsync(Patience);
        var slave = first.CurrentSlavePath!;
        var fakes = new FakeComponents();
        using var host = BuildHost(fakes, Settings(link));
        await host.StartAsync();
        Assert.Equal(1, DescriptorsOn(slave) - 1); // the service's port, besides the simulator's own hold on the slave

        await firstStop.CancelAsync(); // the pty closes: the adapter is pulled while nothing is measured
        await firstServing;

        Assert.True(await EventuallyAsync(() => DescriptorsOn(slave) == 0, TimeSpan.FromSeconds(5)), $"the service still holds {slave} 5 s after the hang-up");
        using var secondStop = new CancellationTokenSource();
        var second = new SimulatedMcaHost(device, link, TimeProvider.System);
        var secondServing = second.RunAsync(secondStop.Token);
        await second.Ready.WaitAsync(Patience);
        host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");
        await AssertOneCompletedResultAsync(fakes);
        await host.StopAsync();
        await secondStop.CancelAsync();
        await secondServing;
    }

    /// <summary>Descriptors of this process open on the pty slave <paramref name="path"/>, from /proc/self/fd (a closed pty's shows as "PATH (deleted)").</summary>
    /// <summary>Waits for the first stored result and asserts it completed (the reason in the message when not).</summary>
    /// <summary>A simulated DP5 served on a pty link (socat) until disposed: the device switched on or plugged in.</summary>
    private sealed class ServedDp5 : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();

        private ServedDp5(string link)
        {
            Device = new SimulatedDp5(new SimulatedDp5Options { Seed = 1 }, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
            Host = new SimulatedMcaHost(Device, link, TimeProvider.System);
            Serving = Host.RunAsync(_stop.Token);
        }

        public SimulatedDp5 Device { get; }

        public SimulatedMcaHost Host { get; }

        public Task Serving { get; }

        /// <summary>Serves a DP5 on <paramref name="link"/> and waits until the link exists.</summary>
        public static async Task<ServedDp5> StartAsync(string link)
        {
            var served = new ServedDp5(link);
            await served.Host.Ready.WaitAsync(Patience);
            return served;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Serving;
            _stop.Dispose();
        }
    }

    private static async Task AssertOneCompletedResultAsync(FakeComponents fakes)
    {
        Assert.True(await fakes.Publisher.WaitUntilAsync(p => p.Results.Count == 1), "no result");
        var result = fakes.Publisher.Results[0];
        Assert.True(result.Outcome == MeasurementOutcome.Completed, $"{result.Outcome}: {result.Reason}");
    }

    private static int DescriptorsOn(string path) =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Count(fd =>
        {
            try
            {
                return fd.LinkTarget is { } target && (target == path || target == path + " (deleted)");
            }
            catch (IOException)
            {
                return false; // closed between listing and reading
            }
        });

    /// <summary>Polls <paramref name="condition"/> every 10 ms for up to <paramref name="patience"/>.</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan patience)
    {
        var giveUp = DateTime.UtcNow + patience;
        while (!condition())
        {
            if (DateTime.UtcNow > giveUp)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms for up to <see cref="Patience"/>.</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var giveUp = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > giveUp)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    [Fact]
    public async Task Measure_Dp5StillAbsentAfterStart_FailsNamingThePathAndServiceStaysUp()
    {
        var link = Path.Combine(_folder, "ttyDP5");
        var fakes = new FakeComponents();
        using var host = BuildHost(fakes, Settings(link));
        await host.StartAsync();

        host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");

        Assert.True(await fakes.Publisher.WaitUntilAsync(p => p.Results.Count == 1), "no result");
        var result = fakes.Publisher.Results[0];
        Assert.Equal(MeasurementOutcome.Failed, result.Outcome);
        Assert.Contains(link, result.Reason, StringComparison.Ordinal);
        await host.StopAsync();
    }

    // Hosting review (s40): a stop while the auto-start waits for an absent DP5, the start-up error left in last_error
    // after the DP5 connected, and a stop while connecting to a DP5 that never answers. Each failed before its fix.

    [Fact]
    public async Task AutoStart_StopWhileWaitingForTheDp5_NothingStartsWhenItComesAndALaterStartMeasures()
    {
        // An unattended Continuous profile whose DP5 is not there yet; the operator sends stop meanwhile (walked away,
        // sample removed). Until the fix the stop found nothing to stop, and the run began by itself the moment the DP5
        // was switched on: an exposure nobody had asked for any more.
        var link = Path.Combine(_folder, "ttyDP5");
        var settings = Settings(link);
        settings.Acquisition.AutoStart = true;
        settings.Acquisition.Mode = MeasurementMode.Continuous;
        var fakes = new FakeComponents();
        var logs = new MemoryLogProvider();
        using var host = BuildHost(fakes, settings, logs);
        await host.StartAsync();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        var control = host.Services.GetRequiredService<MeasurementControl>();
        Assert.Equal(ServiceState.Fault, status.State);

        control.RequestStop("stop command");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // a connection try or two with the stop in between

        await using var dp5 = await ServedDp5.StartAsync(link);

        // The service still connects (the status shows the DP5 is there) but starts nothing.
        Assert.True(await EventuallyAsync(() => dp5.Device.Configuration["MCAC"] == "1024"), "the service never connected to the DP5");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // longer than a retry and a 0.5 s preset: an auto-start would have begun
        Assert.True(
            dp5.Device.AccumulationTime == TimeSpan.Zero && fakes.Publisher.Results.Count == 0,
            $"stop sent while the auto-start waited; the DP5 then counted for {dp5.Device.AccumulationTime.TotalSeconds:F1} s and {fakes.Publisher.Results.Count} result(s) were stored");
        Assert.Equal(ServiceState.Idle, status.State);
        Assert.Null(status.LastError);
        var cancelled = Assert.Single(logs.WithEvent(8028)); // said once, at the stop
        Assert.Contains("stop command", cancelled.Message, StringComparison.Ordinal);

        control.RequestStart("trigger");
        Assert.True(await fakes.Publisher.WaitUntilAsync(p => p.Results.Count >= 1), "the explicit start after the cancelled auto-start measured nothing");
        Assert.Equal(MeasurementOutcome.Completed, fakes.Publisher.Results[0].Outcome);
        control.RequestStop("test over");
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_Dp5NotYetPluggedIn_StartUpErrorClearedOnceItConnects()
    {
        // The service came up in fault with last_error "… not reachable at start-up … Each measurement tries to connect
        // again." Until the fix that text stayed in the retained status for good after the DP5 had connected and
        // measured, so a dashboard went on showing an instrument that could not reach its MCA.
        var link = Path.Combine(_folder, "ttyDP5");
        var fakes = new FakeComponents();
        var logs = new MemoryLogProvider();
        using var host = BuildHost(fakes, Settings(link), logs);
        await host.StartAsync();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        Assert.Contains("not reachable at start-up", status.LastError, StringComparison.Ordinal);

        await using var dp5 = await ServedDp5.StartAsync(link);
        host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");

        await AssertOneCompletedResultAsync(fakes);
        Assert.True(await EventuallyAsync(() => fakes.Publisher.Statuses is { Count: > 0 } s && s[^1].State == "idle"), "the retained status never went back to idle");
        var retained = fakes.Publisher.Statuses[^1];
        Assert.True(
            retained.LastError is null && status.LastError is null,
            $"DP5 connected and measured; the retained status still says last_error '{retained.LastError}'");
        Assert.Single(logs.WithEvent(8006));
        await host.StopAsync();
    }

    [Fact]
    public async Task AutoStart_Dp5SwitchedOnLater_StartUpErrorClearedWhenItConnects()
    {
        var link = Path.Combine(_folder, "ttyDP5");
        var settings = Settings(link);
        settings.Acquisition.AutoStart = true;
        settings.Acquisition.Mode = MeasurementMode.Continuous;
        var fakes = new FakeComponents();
        using var host = BuildHost(fakes, settings);
        await host.StartAsync();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        Assert.Equal(ServiceState.Fault, status.State);

        await using var dp5 = await ServedDp5.StartAsync(link);

        Assert.True(await fakes.Publisher.WaitUntilAsync(p => p.Results.Any(r => r.Outcome == MeasurementOutcome.Completed)), "the auto-started run measured nothing");
        Assert.True(
            status.LastError is null && fakes.Publisher.Statuses[^1].LastError is null,
            $"the auto-started run measures; last_error still '{status.LastError}'");
        host.Services.GetRequiredService<MeasurementControl>().RequestStop("test over");
        await host.StopAsync();
    }

    [Fact]
    public async Task Stop_WhileConnectingToASilentDp5_EndsAtOnceAndTheXrayWarningGoesOff()
    {
        // The port opens but nothing answers (DP5 powered down behind a powered USB-serial adapter, wrong baud rate). The
        // X-ray warning is lit before the MCA is asked for anything (a lamp that cannot be lit must stop the exposure
        // before it starts), so while the measurement connects it is on. Until the fix a stop then spent the 2 s
        // disable budget sending "disable MCA" to a device that had never been enabled and never answered, with the
        // warning on all that time.
        var link = Path.Combine(_folder, "ttyDP5");
        var settings = Settings(link);
        settings.Gpio.Enabled = true;
        settings.Acquisition.ReplyTimeoutMilliseconds = 2000; // one status request outlasts the stop below
        var fakes = new FakeComponents();
        fakes.WireSafeDefaults();
        using var host = BuildHost(fakes, settings);
        await host.StartAsync(); // no device node yet: fault, quickly
        using var silent = PseudoTerminal.Create();
        File.CreateSymbolicLink(link, silent.SlavePath);
        var control = host.Services.GetRequiredService<MeasurementControl>();

        control.RequestStart("test");
        Assert.True(await EventuallyAsync(() => fakes.Chip.IsPhysicallyHigh(22), TimeSpan.FromSeconds(5)), "the X-ray warning never came on");
        await Task.Delay(300); // the measurement waits for the silent DP5's status reply
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        control.RequestStop("stop command");
        Assert.True(await fakes.Publisher.WaitUntilAsync(p => p.Results.Count == 1), "no result");
        var ended = stopping.Elapsed;
        bool warningOn = fakes.Chip.IsPhysicallyHigh(22);
        await host.StopAsync();

        Assert.Equal(MeasurementOutcome.Aborted, fakes.Publisher.Results[0].Outcome);
        Assert.False(warningOn);
        Assert.True(ended < TimeSpan.FromSeconds(1), $"the stop took {ended.TotalSeconds:F2} s with the X-ray warning on; the MCA had never been enabled");
    }
}

using Microsoft.Extensions.DependencyInjection;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Gpio;

/// <summary>
/// GPIO review (2026-11-24): interlock, X-ray warning and trigger paths over the real GPIO code and
/// <see cref="XrfEdge.Devices.Gpio.FakeGpioChip"/>. Each test failed on the code before its fix.
/// Pins as FakeComponents wires them: trigger 17, interlock 27 (active-low: closed = low), X-ray warning 22.
/// </summary>
public sealed class GpioReviewTests
{
    /// <summary>
    /// Log 8012 when the interlock's value cannot be read (chip gone, line request closed): until the hosting review
    /// (s40) it said "GPIO input gpio-interlock failed and is no longer watched", the wording of a watcher that ended,
    /// although only this read had failed and the watcher may still run. It must name the input, its line and chip,
    /// and say that reading the value failed and what follows from it.
    /// </summary>
    [Fact]
    public void InterlockValueUnreadable_Log8012NamesLineChipAndTheReadFailure()
    {
        var chip = new XrfEdge.Devices.Gpio.FakeGpioChip(32, "gpiochip0");
        chip.SetInputLevel(27, high: false, TimeSpan.FromSeconds(1)); // closed
        var logs = new MemoryLogProvider();
        using var io = new GpioInstrumentIo(chip.AsChip(), FakeComponents.Settings().Gpio, TimeProvider.System, logs.CreateLogger("gpio"));
        Assert.True(io.InterlockClosed);
        var interlock = (XrfEdge.Devices.Gpio.GpioLine)typeof(GpioInstrumentIo).GetField("_interlock", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(io)!;
        interlock.Dispose(); // reads now fail with IOException (EBADF), as when the chip is gone

        Assert.False(io.InterlockClosed);

        var entry = Assert.Single(logs.WithEvent(8012));
        Assert.StartsWith("GPIO input interlock (line 27 on gpiochip0): reading its value failed: ", entry.Message, StringComparison.Ordinal);
        Assert.Contains("Bad file descriptor", entry.Message, StringComparison.Ordinal);
        Assert.EndsWith("; the interlock counts as open until a read succeeds", entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("no longer watched", entry.Message, StringComparison.Ordinal);
    }

    /// <summary>Log 8012 when the interlock's edge events cannot be read: the watcher ends, and the message says so and why.</summary>
    [Fact]
    public async Task InterlockEventsUnreadable_Log8012SaysTheWatchEndedAndTheInterlockCountsAsOpen()
    {
        var chip = new XrfEdge.Devices.Gpio.FakeGpioChip(32, "gpiochip0");
        chip.SetInputLevel(27, high: false, TimeSpan.FromSeconds(1));
        var logs = new MemoryLogProvider();
        using var io = new GpioInstrumentIo(chip.AsChip(), FakeComponents.Settings().Gpio, TimeProvider.System, logs.CreateLogger("gpio"));
        io.WatchInterlock(new MeasurementControl(), new InstrumentStatus());

        chip.FailNextEventRead(27);

        Assert.True(await Wait.UntilAsync(() => logs.WithEvent(8012).Count == 1));
        Assert.Equal(
            "GPIO input interlock (line 27 on gpiochip0): reading its edge events failed: read of a line event from gpiochip0: Input/output error (errno 5); it is no longer watched, and the interlock counts as open until the service restarts",
            logs.WithEvent(8012)[0].Message);
    }

    /// <summary>
    /// An interlock that opens during an exposure must abort it however briefly it stays open: the debounce period
    /// (Gpio:InterlockDebounceMilliseconds, up to 1000) is for a closing contact's bounce, and must not hide an opening.
    /// </summary>
    [Fact]
    public async Task InterlockOpensForLessThanTheDebounce_DuringMeasurement_Aborts()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        var settings = FakeComponents.Settings();
        settings.Gpio.InterlockDebounceMilliseconds = 100;
        using var host = parts.BuildHost(settings);
        await host.StartAsync();
        parts.PressTrigger();
        Assert.True(await parts.Source.WaitStartedAsync());

        parts.Chip.SetInputLevel(27, high: true, TimeSpan.FromMilliseconds(30)); // lid lifted for 30 ms
        parts.Chip.SetInputLevel(27, high: false, TimeSpan.FromSeconds(1));       // and closed again

        bool ended = await parts.Publisher.WaitUntilAsync(p => p.Results.Count == 1);
        parts.Source.Complete();
        await host.StopAsync();
        Assert.True(ended, "the interlock was open for 30 ms during the exposure (debounce 100 ms); the exposure went on");
        Assert.Equal(MeasurementOutcome.Aborted, parts.Publisher.Results[0].Outcome);
        Assert.Equal("interlock opened", parts.Publisher.Results[0].Reason);
    }

    /// <summary>
    /// Once the interlock can no longer be watched (an error reading its edge events ended the watching thread), no
    /// exposure may start, even if the line's value still reads closed: nothing would abort it when the lid opens.
    /// </summary>
    [Fact]
    public async Task InterlockWatchFailed_LineStillReadsClosed_StartIsRefused()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        using var host = parts.BuildHost(FakeComponents.Settings());
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        var control = host.Services.GetRequiredService<MeasurementControl>();
        await host.StartAsync();
        Assert.True(await Wait.UntilAsync(() => parts.Chip.IsPhysicallyHigh(5))); // ready: the watcher runs

        parts.Chip.FailNextEventRead(27); // one failed read (EIO) of the interlock's events; the value still reads closed
        Assert.True(await Wait.UntilAsync(() => status.LastError?.StartsWith("interlock line unreadable", StringComparison.Ordinal) == true));

        var request = new StartRequest("mqtt", SampleId: "after-watch-failed");
        control.RequestStart(request);
        bool answered = await Wait.UntilAsync(() => request.Finished.IsCompleted || parts.Source.Begun > 0);
        int begun = parts.Source.Begun;
        bool shownClosed = status.InterlockClosed;
        parts.Source.Complete();
        await host.StopAsync();
        Assert.True(answered, "the start was neither refused nor begun");
        Assert.True(
            begun == 0 && !shownClosed,
            $"interlock no longer watched: exposures begun={begun}, status interlock_closed={shownClosed}");
        var answer = await request.Finished;
        Assert.False(answer.Succeeded);
    }

    /// <summary>
    /// The X-ray warning means an exposure is under way; at a service stop it must stay on until the exposure has
    /// ended (the source has returned), not go off while the MCA is still being stopped.
    /// </summary>
    [Fact]
    public async Task ServiceStops_DuringExposure_WarningStaysOnUntilTheExposureHasEnded()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        bool? warningWhenCancelled = null;
        parts.Source.Cancelled = () => warningWhenCancelled = parts.Chip.IsPhysicallyHigh(22);
        using var host = parts.BuildHost(FakeComponents.Settings());
        await host.StartAsync();
        parts.PressTrigger();
        Assert.True(await parts.Source.WaitStartedAsync());
        Assert.True(parts.Chip.IsPhysicallyHigh(22));

        await host.StopAsync();

        Assert.True(warningWhenCancelled, $"X-ray warning when the source was told to stop: {warningWhenCancelled?.ToString() ?? "never told"}");
        Assert.False(parts.Chip.IsPhysicallyHigh(22)); // and off once it has ended
        Assert.Equal(MeasurementOutcome.Aborted, Assert.Single(parts.Publisher.Results).Outcome);
    }

    /// <summary>
    /// A start (trigger press, MQTT start) that arrives after the worker has taken a start but before it has marked
    /// the run as in progress must be refused like any start during a measurement, not queued for a second exposure
    /// right after the first.
    /// </summary>
    [Fact]
    public async Task StartArrivingAsTheWorkerTakesAnother_IsRefusedNotQueued()
    {
        var control = new MeasurementControl();
        Assert.True(control.RequestStart(new StartRequest("trigger")));
        _ = await control.WaitForStartAsync(CancellationToken.None); // the worker has taken it (interlock check next)

        var second = new StartRequest("mqtt", SampleId: "second");
        control.RequestStart(second);       // arrives in that window
        control.RunStarted("measurement");
        control.RunEnded();                  // the first measurement is over

        StartRequest? queued = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            queued = await control.WaitForStartAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        Assert.True(queued is null, $"a start taken during the first measurement was queued and began a second exposure ({queued?.Origin})");
        Assert.True(second.Finished.IsCompleted, "the second start was never answered");
    }

    /// <summary>
    /// An auto-started run (Continuous, Scan) can begin exposing before the host has finished starting (a hosted
    /// service after acquisition still starting, as on a slow Pi): the interlock must already be watched then.
    /// </summary>
    [Fact]
    public async Task AutoStartedRun_InterlockOpensBeforeTheHostHasStarted_Aborts()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        var settings = FakeComponents.Settings(MeasurementMode.Continuous);
        settings.Acquisition.AutoStart = true;
        var opensWhileStarting = new OpenInterlockWhileStarting(parts);
        using var host = parts.BuildHost(settings, services => services.AddHostedService(_ => opensWhileStarting));
        await host.StartAsync();
        parts.Source.Complete();
        await host.StopAsync();

        Assert.True(opensWhileStarting.Exposing, "the auto-started run never began exposing");
        Assert.True(
            opensWhileStarting.Aborted,
            "the interlock opened while the host was still starting; the auto-started exposure went on (no abort within 3 s)");
    }

    /// <summary>
    /// The buzzer is switched off by a timer 100 ms after a beep. If the GPIO chip goes away in that time (USB expander
    /// unplugged), the failed write must be logged, not thrown: on a timer thread it is an unhandled exception, which
    /// ends the process with the X-ray source in whatever state it was.
    /// </summary>
    [Fact]
    public void BuzzerLineFailsBeforeTheBeepEnds_NoExceptionOnTheTimer()
    {
        var chip = new XrfEdge.Devices.Gpio.FakeGpioChip(32);
        var clock = new FakeTimeProvider();
        var options = FakeComponents.Settings().Gpio;
        using var io = new GpioInstrumentIo(chip.AsChip(), options, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        io.Beep();
        Assert.True(chip.IsPhysicallyHigh(26));
        var buzzer = (XrfEdge.Devices.Gpio.GpioLine)typeof(GpioInstrumentIo).GetField("_buzzer", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(io)!;
        buzzer.Dispose(); // writes now fail with IOException, as when the chip is gone

        var thrown = Record.Exception(() => clock.Advance(TimeSpan.FromMilliseconds(150))); // the beep's end
        Assert.Null(thrown);
    }

    /// <summary>
    /// An LED output that cannot be driven (its GPIO expander unplugged) must not take the status down with it: the
    /// state change must still be published over MQTT and the service keep running (an exception in the status
    /// worker stopped the host).
    /// </summary>
    [Fact]
    public async Task LedOutputFails_StatusStillPublishedAndServiceKeepsRunning()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        using var host = parts.BuildHost(FakeComponents.Settings());
        var lifetime = host.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>();
        var io = (GpioInstrumentIo)host.Services.GetRequiredService<IInstrumentIo>();
        await host.StartAsync();
        Assert.True(await Wait.UntilAsync(() => parts.Chip.IsPhysicallyHigh(5)));
        var ready = (XrfEdge.Devices.Gpio.GpioLine)typeof(GpioInstrumentIo).GetField("_ready", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(io)!;
        ready.Dispose(); // writes to the ready LED now fail with IOException

        parts.Chip.SetInputLevel(27, high: true, TimeSpan.FromMilliseconds(50)); // interlock opens: a state to show
        bool published = await Wait.UntilAsync(() => parts.Publisher.Statuses.Any(s => !s.InterlockClosed));
        bool stopping = lifetime.ApplicationStopping.IsCancellationRequested;
        await host.StopAsync();
        Assert.True(published && !stopping, $"ready LED unwritable: interlock-open status published={published}, host stopping={stopping}");
    }

    /// <summary>A hosted service registered after acquisition that, while it starts, opens the interlock during the first exposure.</summary>
    private sealed class OpenInterlockWhileStarting(FakeComponents parts) : Microsoft.Extensions.Hosting.IHostedService
    {
        public bool Exposing { get; private set; }

        public bool Aborted { get; private set; }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            Exposing = await parts.Source.WaitStartedAsync();
            parts.Chip.SetInputLevel(27, high: true, TimeSpan.FromMilliseconds(50)); // lid opened
            for (int i = 0; i < 120 && !Aborted; i++)
            {
                await Task.Delay(25, cancellationToken);
                Aborted = parts.Publisher.Results.Any(r => r.Outcome == MeasurementOutcome.Aborted);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

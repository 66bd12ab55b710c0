using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using XrfEdge.Devices.Gpio;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>
/// The radiation-safety and operator-facing control paths, from an adversarial review (2026-11). Each test states the
/// behaviour the docs promise; all of them failed before the fixes in AcquisitionWorker, MeasurementControl,
/// GpioInstrumentIo, InstrumentStatus and PipelineStartup.
/// Pins as FakeComponents wires them: trigger 17, interlock 27 (active-low), X-ray warning 22, ready 5, measuring 6, fault 13.
/// </summary>
public sealed class SafetyReviewTests
{
    /// <summary>
    /// A stop that arrives while a scan waits on a full spectra channel (analysis slower than the MCA — the normal case
    /// the docs describe: "in scan mode the scanner is slowed rather than points lost") must end the scan.
    /// </summary>
    [Fact]
    public async Task Scan_StopWhileWaitingOnBackpressure_EndsTheScan()
    {
        using var scan = await StalledScan.StartAsync(gpio: false);

        scan.Control.RequestStop("stop command");

        var summary = await scan.ReleaseAndEndAsync();
        Assert.True(
            summary.Aborted && scan.Parts.Source.Acquired <= scan.StalledAt + 1,
            $"stop sent after {scan.StalledAt} points (worker blocked between points); the scan went on: {scan.Parts.Source.Acquired} acquisitions, summary points={summary.Points}, aborted={summary.Aborted}");
    }

    /// <summary>
    /// The interlock opening while a scan waits between points must stop the scan: no further point may be acquired
    /// with the interlock open.
    /// </summary>
    [Fact]
    public async Task Scan_InterlockOpensBetweenPoints_NoFurtherPointIsAcquired()
    {
        using var scan = await StalledScan.StartAsync(gpio: true);

        scan.Parts.Chip.SetInputLevel(27, high: true, TimeSpan.FromMilliseconds(50)); // interlock opens (longer than the 5 ms debounce)
        Assert.True(await Wait.UntilAsync(() => !scan.Status.InterlockClosed)); // the GPIO thread has seen it and called Abort

        var summary = await scan.ReleaseAndEndAsync();
        Assert.True(
            scan.Parts.Source.Acquired <= scan.StalledAt + 1 && summary.Aborted,
            $"interlock opened after {scan.StalledAt} points; {scan.Parts.Source.Acquired - scan.StalledAt} more points were acquired with the interlock open (summary points={summary.Points}, aborted={summary.Aborted})");
    }

    /// <summary>
    /// When the interlock line can no longer be read (chip gone: EBADF/ENODEV on the line request), the service must
    /// fail safe: treat the interlock as open and abort the running exposure.
    /// </summary>
    [Fact]
    public async Task InterlockLineUnreadable_DuringMeasurement_FailsSafe()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        using var host = parts.BuildHost(FakeComponents.Settings());
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        var io = (GpioInstrumentIo)host.Services.GetRequiredService<IInstrumentIo>();
        await host.StartAsync();
        parts.PressTrigger();
        Assert.True(await parts.Source.WaitStartedAsync());

        // The line request goes away under the service (what an unplugged USB GPIO expander does): reads now fail with IOException.
        var interlock = (GpioLine)typeof(GpioInstrumentIo).GetField("_interlock", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(io)!;
        interlock.Dispose();
        Assert.False(io.InterlockClosed); // reading fails: fail safe, the interlock counts as open

        bool aborted = await parts.Publisher.WaitUntilAsync(p => p.Results.Count == 1);
        bool warningOn = parts.Chip.IsPhysicallyHigh(22);
        bool shownClosed = status.InterlockClosed;
        parts.Source.Complete();
        await host.StopAsync();
        Assert.True(
            aborted && !shownClosed && !warningOn,
            $"interlock unreadable: measurement aborted={aborted}, X-ray warning still on={warningOn}, status still says interlock closed={shownClosed}");
    }

    /// <summary>An auto-started scan (jetson-spi profile) must show 'measuring' (measuring LED on, ready LED off) while it exposes.</summary>
    [Fact]
    public async Task AutoStartScan_WhileExposing_ShowsMeasuring()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        var settings = FakeComponents.Settings(MeasurementMode.Scan);
        settings.Acquisition.AutoStart = true;
        // Forces the interleaving where the auto-started scan begins before the host raises ApplicationStarted (a hosted
        // service registered after acquisition whose StartAsync takes a moment, as on a slow Pi); in the real host the
        // order of the two is not defined.
        using var host = parts.BuildHost(settings, services => services.AddHostedService(_ => new WaitForFirstAcquisition(parts.Source)));
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        await host.StartAsync();

        // Until the status worker has shown a state with the warning on (a fixed 500 ms failed when the tests beside this
        // one starved the pool the worker runs on); a scan shown as not measuring waits the 10 s out and fails below.
        await Wait.UntilAsync(() => parts.Chip.IsPhysicallyHigh(22) && parts.Chip.IsPhysicallyHigh(6) && !parts.Chip.IsPhysicallyHigh(5));

        var state = status.State;
        bool ready = parts.Chip.IsPhysicallyHigh(5);
        bool measuring = parts.Chip.IsPhysicallyHigh(6);
        bool xray = parts.Chip.IsPhysicallyHigh(22);
        parts.Source.Complete();
        await host.StopAsync();
        Assert.True(
            state == ServiceState.Measuring && measuring && !ready && xray,
            $"auto-started scan exposing: X-ray warning={xray}, state={state}, ready LED={ready}, measuring LED={measuring}");
    }

    /// <summary>
    /// An analysis failure of an earlier point/measurement must not show the instrument as not measuring while the
    /// next exposure runs (measuring LED off, fault LED on, X-ray warning on).
    /// </summary>
    [Fact]
    public async Task Scan_AnalysisFailureOfEarlierPoint_StillShowsMeasuringWhileExposing()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        parts.Analyzer.Fail = _ => new InvalidOperationException("encoder failed");
        var settings = FakeComponents.Settings(MeasurementMode.Scan);
        using var host = parts.BuildHost(settings);
        var control = host.Services.GetRequiredService<MeasurementControl>();
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        await host.StartAsync();
        control.RequestStart("test");
        Assert.True(await parts.Source.WaitStartedAsync());
        parts.Source.Complete(); // point 0 delivered, its analysis fails
        Assert.True(await parts.Source.WaitStartedAsync()); // point 1 exposing
        Assert.True(await parts.Publisher.WaitUntilAsync(p => p.Results.Count == 1));
        await Task.Delay(300);

        var state = status.State;
        bool measuringLed = parts.Chip.IsPhysicallyHigh(6);
        bool xray = parts.Chip.IsPhysicallyHigh(22);
        control.RequestStop("test over");
        await host.StopAsync();
        Assert.True(
            state == ServiceState.Measuring && measuringLed,
            $"point 1 exposing (X-ray warning={xray}) after point 0 failed analysis: state={state}, measuring LED={measuringLed}");
    }

    /// <summary>
    /// A scan whose source runs out part-way: the MQTT start must be answered with the scan (scan_id, points), not
    /// "no measurement ran", and the summary must not present the short scan as complete.
    /// </summary>
    [Fact]
    public async Task Scan_SourceExhaustedMidway_ReplyNamesTheScanAndSummaryIsNotComplete()
    {
        var parts = new FakeComponents();
        parts.Source.Limit = 20;
        var settings = FakeComponents.Settings(MeasurementMode.Scan, gpio: false);
        settings.Acquisition.ScanPoints = 50;
        using var host = parts.BuildHost(settings);
        var control = host.Services.GetRequiredService<MeasurementControl>();
        await host.StartAsync();
        var request = new StartRequest("mqtt", SampleId: "S1");
        Assert.True(control.RequestStart(request));

        Assert.True(await parts.Publisher.WaitUntilAsync(p => p.Summaries.Count == 1));
        var summary = parts.Publisher.Summaries[0];
        await host.StopAsync();

        // The in-memory publisher does not answer starts (MqttResultPublisher does, at the summary), so the request must
        // simply not have been refused as if nothing had run.
        string? refusal = request.Finished.IsCompleted ? (await request.Finished).Error : null;
        Assert.True(
            refusal is null && summary.Aborted && summary.Points == 20,
            $"20 of 50 points stored; refusal='{refusal}'; summary points={summary.Points} aborted={summary.Aborted}");
    }

    /// <summary>
    /// The X-ray warning output cannot be driven (GPIO write fails): no exposure may start (it does not), but the start
    /// must be recorded as failed (so MqttResultPublisher answers it) and the pipeline must still drain and stop the
    /// publisher within the stop budget.
    /// </summary>
    [Fact]
    public async Task XrayWarningWriteFails_StartRecordedAsFailedAndPipelineDrains()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        using var host = parts.BuildHost(FakeComponents.Settings());
        var control = host.Services.GetRequiredService<MeasurementControl>();
        var io = (GpioInstrumentIo)host.Services.GetRequiredService<IInstrumentIo>();
        await host.StartAsync();
        var xray = (GpioLine)typeof(GpioInstrumentIo).GetField("_xray", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(io)!;
        xray.Dispose(); // writes now fail with IOException (EBADF), as with an unplugged expander

        var request = new StartRequest("mqtt", SampleId: "X");
        control.RequestStart(request);
        bool recorded = await parts.Publisher.WaitUntilAsync(p => p.Results.Count == 1);
        var stop = System.Diagnostics.Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(cts.Token);
        Assert.Equal(0, parts.Source.Acquired); // fail-safe part: nothing was acquired
        // MqttResultPublisher answers the start from the result that carries it; the in-memory publisher only stores it.
        bool carried = recorded && parts.Publisher.Results[0] is { Outcome: MeasurementOutcome.Failed } failed && ReferenceEquals(failed.Request, request);
        Assert.True(
            carried && parts.Publisher.Stopped,
            $"X-ray warning write failed: failed result recorded={recorded} carrying the start={carried}, publisher stopped={parts.Publisher.Stopped}, host stop took {stop.Elapsed.TotalSeconds:F1} s (ShutdownTimeout 10 s)");
    }

    /// <summary>A source error outside the caught list (NotSupportedException, ArgumentException…) must be recorded as a failed measurement, not kill acquisition.</summary>
    [Fact]
    public async Task SourceThrowsUnexpectedException_RecordedAsFailed()
    {
        var parts = new FakeComponents();
        parts.Source.Fail = () => new NotSupportedException("baud rate not supported by the adapter");
        using var host = parts.BuildHost(FakeComponents.Settings(gpio: false));
        var control = host.Services.GetRequiredService<MeasurementControl>();
        var health = host.Services.GetRequiredService<PipelineHealth>();
        await host.StartAsync();
        var request = new StartRequest("mqtt", SampleId: "Y");
        control.RequestStart(request);
        bool recorded = await parts.Publisher.WaitUntilAsync(p => p.Results.Count == 1);
        bool alive = health.IsAlive(out string? problem);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(cts.Token);
        Assert.True(recorded, $"failed result recorded={recorded}, start answered={request.Finished.IsCompleted}, pipeline alive={alive} ({problem})");
    }

    /// <summary>A second trigger press during a measurement must not queue a second exposure behind it.</summary>
    [Fact]
    public async Task TriggerPressedDuringMeasurement_NoSecondExposureQueued()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        parts.Source.Hold = true;
        using var host = parts.BuildHost(FakeComponents.Settings());
        var control = host.Services.GetRequiredService<MeasurementControl>();
        await host.StartAsync();
        parts.PressTrigger();
        Assert.True(await parts.Source.WaitStartedAsync());
        Assert.Equal("measurement", control.ActiveRun);

        parts.PressTrigger(); // the operator presses again while the first exposure runs
        await Task.Delay(200); // the GPIO thread has taken the press (debounce 20 ms)
        parts.Source.Complete();
        Assert.True(await parts.Publisher.WaitUntilAsync(p => p.Results.Count == 1));
        Assert.True(await Wait.UntilAsync(() => control.ActiveRun is null));
        await Task.Delay(300); // a queued start would begin at once

        Assert.Equal(1, parts.Source.Begun);
        await host.StopAsync();
    }

    /// <summary>The ready LED invites a trigger press: it must be off while the interlock would refuse one.</summary>
    [Fact]
    public async Task InterlockOpenWhileIdle_ReadyLedOffUntilClosed()
    {
        var parts = new FakeComponents();
        parts.WireSafeDefaults();
        using var host = parts.BuildHost(FakeComponents.Settings());
        var status = host.Services.GetRequiredService<InstrumentStatus>();
        await host.StartAsync();
        Assert.True(await Wait.UntilAsync(() => parts.Chip.IsPhysicallyHigh(5)));

        parts.Chip.SetInputLevel(27, high: true, TimeSpan.FromMilliseconds(50)); // interlock opens
        Assert.True(await Wait.UntilAsync(() => !status.InterlockClosed));
        Assert.True(await Wait.UntilAsync(() => !parts.Chip.IsPhysicallyHigh(5)), "ready LED still on with the interlock open");

        parts.Chip.SetInputLevel(27, high: false, TimeSpan.FromMilliseconds(50)); // closed again
        Assert.True(await Wait.UntilAsync(() => parts.Chip.IsPhysicallyHigh(5)));
        await host.StopAsync();
    }

    private sealed class WaitForFirstAcquisition(FakeSpectrumSource source) : Microsoft.Extensions.Hosting.IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken) => Assert.True(await source.WaitStartedAsync());

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Waits until the fast source stops being called (the worker is blocked on the full spectra channel).</summary>
    /// <summary>
    /// A 300-point scan started and stalled on backpressure: the analysis blocks until <see cref="ReleaseAndEndAsync"/>,
    /// so the acquisition worker waits between points with the spectra channel full.
    /// </summary>
    internal sealed class StalledScan : IDisposable
    {
        private readonly ManualResetEventSlim _gate = new(false);

        private StalledScan(bool gpio, MeasurementMode mode)
        {
            if (gpio)
            {
                Parts.WireSafeDefaults();
            }

            Parts.Analyzer.Fail = _ =>
            {
                _gate.Wait(TimeSpan.FromSeconds(20));
                return null;
            };
            var settings = FakeComponents.Settings(mode, gpio);
            settings.Acquisition.ScanPoints = 300;
            Host = Parts.BuildHost(settings);
            Control = Host.Services.GetRequiredService<MeasurementControl>();
            Status = Host.Services.GetRequiredService<InstrumentStatus>();
        }

        public FakeComponents Parts { get; } = new();

        public Microsoft.Extensions.Hosting.IHost Host { get; }

        public MeasurementControl Control { get; }

        public InstrumentStatus Status { get; }

        /// <summary>Points acquired when the scan stalled.</summary>
        public int StalledAt { get; private set; }

        /// <summary>A run stalled on its full spectra channel: a scan, or a Continuous run with <paramref name="mode"/>.</summary>
        public static async Task<StalledScan> StartAsync(bool gpio, MeasurementMode mode = MeasurementMode.Scan)
        {
            var scan = new StalledScan(gpio, mode);
            await scan.Host.StartAsync();
            scan.Control.RequestStart("test");
            scan.StalledAt = await WaitForStallAsync(scan.Parts.Source);
            return scan;
        }

        /// <summary>Lets the analysis go on, waits for the scan summary and stops the host.</summary>
        public async Task<ScanSummary> ReleaseAndEndAsync()
        {
            _gate.Set();
            Assert.True(await Parts.Publisher.WaitUntilAsync(p => p.Summaries.Count == 1));
            var summary = Parts.Publisher.Summaries[0];
            await Host.StopAsync();
            return summary;
        }

        public void Dispose()
        {
            _gate.Set();
            Host.Dispose();
            _gate.Dispose();
        }
    }

    /// <summary>
    /// The acquisitions once they stop growing for 1 s (ten 100 ms polls): the run is blocked on its full channel. One
    /// unchanged poll was taken for a stall until 2026-11-24, which a loaded 2-core machine produces by pausing the
    /// worker for 100 ms (seen: "stalled" at 65, the run went on to 81).
    /// </summary>
    internal static async Task<int> WaitForStallAsync(FakeSpectrumSource source)
    {
        int last = -1;
        int unchanged = 0;
        for (int i = 0; i < 300; i++)
        {
            await Task.Delay(100);
            int now = source.Acquired;
            unchanged = now > 0 && now == last ? unchanged + 1 : 0;
            if (unchanged >= 10)
            {
                return now;
            }

            last = now;
        }

        throw new TimeoutException("acquisition never stalled");
    }
}

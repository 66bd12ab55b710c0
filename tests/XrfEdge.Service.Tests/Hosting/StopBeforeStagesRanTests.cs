using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>
/// A stop that comes before the thread pool has begun a pipeline stage. Since .NET 10, BackgroundService.StartAsync
/// queues ExecuteAsync with Task.Run on its stopping token, so a stage whose stop came first was cancelled unrun: the
/// analysis and publishing stages then never drained what acquisition had queued, the publisher was never stopped, and
/// the stop waited out the host's shutdown time-out on channels nobody completed. A StartAsync given an already
/// cancelled token stands in for the pool being late: the framework then never runs ExecuteAsync at all.
/// </summary>
public sealed class StopBeforeStagesRanTests
{
    [Fact]
    public async Task BackgroundService_StartedWithItsStopAlreadyRequested_NeverRunsExecuteAsync()
    {
        // The premise: if the framework ever runs ExecuteAsync here, DrainingBackgroundService's fallback is moot.
        var plain = new Recording();
        await plain.StartAsync(new CancellationToken(canceled: true));
        await plain.StopAsync(CancellationToken.None);
        Assert.Equal(0, plain.Runs);
    }

    [Fact]
    public async Task DrainingBackgroundService_StopBeforeItRan_RunsExecuteAsyncOnceWithTheStopRequested()
    {
        var stage = new Draining();
        await stage.StartAsync(new CancellationToken(canceled: true));
        await stage.StopAsync(CancellationToken.None);
        Assert.Equal(1, stage.Runs);
        Assert.True(stage.SawStopRequested);

        var normal = new Draining();
        await normal.StartAsync(CancellationToken.None);
        Assert.True(await Wait.UntilAsync(() => normal.Runs == 1));
        await normal.StopAsync(CancellationToken.None);
        Assert.Equal(1, normal.Runs); // run by the framework: not again at the stop
    }

    [Fact]
    public async Task DrainingBackgroundService_StopBeforeItRanAndTheShutdownTimeoutOver_ReturnsAsTheFrameworkDoes()
    {
        // The host's shutdown time-out (Health:StopTimeoutSeconds) ends the wait for a stage still draining, not the stage;
        // BackgroundService.StopAsync returns quietly then (the premise, first). The fallback threw TaskCanceledException
        // out of StopAsync instead, so a stage run at its stop that was still draining when the time-out came turned into
        // a failed stop, which the ordinary path never reports. An already-cancelled token stands in for the time-out.
        var plain = new Endless();
        await plain.StartAsync(CancellationToken.None);
        Assert.True(await Wait.UntilAsync(() => plain.Runs == 1));
        await plain.StopAsync(new CancellationToken(canceled: true));
        plain.Finish();

        var stage = new EndlessDraining();
        await stage.StartAsync(new CancellationToken(canceled: true));
        var error = await Record.ExceptionAsync(() => stage.StopAsync(new CancellationToken(canceled: true)));
        stage.Finish();
        Assert.Null(error);
        Assert.Equal(1, stage.Runs);
    }

    [Fact]
    public async Task Pipeline_StopBeforeAnyStageRan_StoresWhatWasQueuedAndStopsThePublisher()
    {
        var parts = new FakeComponents();
        using var host = parts.BuildHost(FakeComponents.Settings(gpio: false));
        var channels = host.Services.GetRequiredService<PipelineChannels>();
        var stages = host.Services.GetServices<IHostedService>()
            .Where(s => s is AcquisitionWorker or AnalysisWorker or PublishingWorker)
            .ToList();
        Assert.Equal(3, stages.Count);

        // An aborted measurement already queued when the stop came (analysis passes a result through as it is).
        var now = DateTimeOffset.UtcNow;
        var queued = new MeasurementResult("M-queued", MeasurementMode.Triggered, now, now, null, null, MeasurementOutcome.Aborted, "service stopping", null, null, TimeSpan.FromSeconds(1), new StartRequest("test"));
        Assert.True(channels.Spectra.Writer.TryWrite(new PipelineItem.Result(queued)));

        var stopping = new CancellationToken(canceled: true);
        foreach (var stage in stages)
        {
            await stage.StartAsync(stopping);
        }

        // The host stops hosted services in reverse order of registration: acquisition, analysis, publishing.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var stage in Enumerable.Reverse(stages))
        {
            await stage.StopAsync(timeout.Token);
        }

        Assert.False(timeout.IsCancellationRequested, "a stage's stop waited on a channel nobody completed");
        Assert.Equal("M-queued", Assert.Single(parts.Publisher.Results).MeasurementId);
        Assert.True(parts.Publisher.Stopped);
    }

    private sealed class Recording : BackgroundService
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Interlocked.Increment(ref _runs);
            return Task.CompletedTask;
        }
    }

    /// <summary>A stage that drains until the test lets it finish, whatever its stopping token says.</summary>
    private sealed class Endless : BackgroundService
    {
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public void Finish() => _finish.TrySetResult();

        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Interlocked.Increment(ref _runs);
            return _finish.Task;
        }
    }

    /// <summary><see cref="Endless"/> as a <see cref="DrainingBackgroundService"/>.</summary>
    private sealed class EndlessDraining : DrainingBackgroundService
    {
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public void Finish() => _finish.TrySetResult();

        protected override Task RunStageAsync(CancellationToken stoppingToken)
        {
            Interlocked.Increment(ref _runs);
            return _finish.Task;
        }
    }

    private sealed class Draining : DrainingBackgroundService
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        public bool SawStopRequested { get; private set; }

        protected override Task RunStageAsync(CancellationToken stoppingToken)
        {
            SawStopRequested = stoppingToken.IsCancellationRequested;
            Interlocked.Increment(ref _runs);
            return Task.CompletedTask;
        }
    }
}

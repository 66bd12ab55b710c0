using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Inference.Model;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>The watcher that loads a refused model once its files change, on a manual clock.</summary>
public sealed class ModelWatcherTests
{
    [Fact]
    public async Task FilesChange_LoadedWithinOnePeriod_IdentityAndStatusShowTheModel()
    {
        string fingerprint = "broken";
        bool valid = false;
        int looks = 0;
        using var slot = new ModelSlot(
            () => valid ? new FakeAnalyzer("Fe") : throw new ModelContractException("model file '/m.onnx' is not a readable ONNX model: cut off"),
            () =>
            {
                Interlocked.Increment(ref looks);
                return fingerprint;
            },
            NullLogger.Instance);
        var identity = new ServiceIdentity("hash", DateTimeOffset.UnixEpoch);
        var status = new InstrumentStatus();
        status.SetModelProblem(slot.Problem);
        var time = new FakeTimeProvider();
        using var watcher = new ModelWatcher(slot, identity, status, time);
        await watcher.StartAsync(CancellationToken.None);

        // Periods with the files unchanged: looked at, nothing opened, the problem stays shown. (ExecuteAsync starts on
        // the thread pool, so the clock is moved until the watcher has looked.)
        Assert.True(await Wait.UntilAsync(() =>
        {
            time.Advance(ModelWatcher.Interval);
            return Volatile.Read(ref looks) >= 2;
        }), "the watcher never looked at the files");
        Assert.Null(identity.Model);
        Assert.Contains("cut off", status.ModelProblem, StringComparison.Ordinal);
        Assert.Contains("NO MODEL (measuring without analysis): model file '/m.onnx'", status.Describe(0), StringComparison.Ordinal);

        valid = true;
        fingerprint = "fixed";

        Assert.True(await Wait.UntilAsync(() =>
        {
            time.Advance(ModelWatcher.Interval);
            return identity.Model is not null;
        }), "the watcher did not load the fixed model");
        Assert.Equal("fake-encoder", identity.Model!.Name);
        Assert.Null(status.ModelProblem);
        Assert.DoesNotContain("NO MODEL", status.Describe(0), StringComparison.Ordinal);
        Assert.True(await Wait.UntilAsync(() => watcher.ExecuteTask?.IsCompleted == true), "the watcher kept running with a model loaded");
        await watcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ModelLoadedAtStart_WatcherEndsAtOnce()
    {
        using var slot = new ModelSlot(() => new FakeAnalyzer("Fe"), () => "ok", NullLogger.Instance);
        using var watcher = new ModelWatcher(slot, new ServiceIdentity("hash", DateTimeOffset.UnixEpoch), new InstrumentStatus(), new FakeTimeProvider());

        await watcher.StartAsync(CancellationToken.None);

        Assert.True(await Wait.UntilAsync(() => watcher.ExecuteTask?.IsCompleted == true));
        await watcher.StopAsync(CancellationToken.None);
    }
}

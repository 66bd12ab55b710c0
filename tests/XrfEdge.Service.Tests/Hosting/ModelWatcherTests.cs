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
    public async Task FilesChangeIntoAnotherRefusedModel_StatusShowsTheNewReason()
    {
        // Found 2026-11-23: only a load was shown, so after a second refusal the retained status and systemd's STATUS
        // line kept the first reason ("does not exist") while the journal logged the one that now applies.
        string fingerprint = "missing";
        string reason = "model file '/m.onnx' does not exist";
        using var slot = new ModelSlot(() => throw new ModelContractException(Volatile.Read(ref reason)), () => Volatile.Read(ref fingerprint), NullLogger.Instance);
        var identity = new ServiceIdentity("hash", DateTimeOffset.UnixEpoch);
        var status = new InstrumentStatus();
        status.SetModelProblem(slot.Problem);
        var time = new FakeTimeProvider();
        using var watcher = new ModelWatcher(slot, identity, status, time);
        await watcher.StartAsync(CancellationToken.None);

        Volatile.Write(ref reason, "model '/m.onnx' (card '/m.card.json'): SHA-256 does not match the card");
        Volatile.Write(ref fingerprint, "copied in, wrong file");

        Assert.True(await Wait.UntilAsync(() =>
        {
            time.Advance(ModelWatcher.Interval);
            return status.ModelProblem?.Contains("SHA-256", StringComparison.Ordinal) == true;
        }), "the status never showed the reason the changed files were refused for");
        Assert.Null(identity.Model);
        Assert.Equal(slot.Problem, status.ModelProblem);
        Assert.Contains("NO MODEL (measuring without analysis): model '/m.onnx' (card '/m.card.json'): SHA-256", status.Describe(0), StringComparison.Ordinal);
        await watcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void TryLoad_AfterARefusal_AnyErrorOfTheNewFilesIsARefusal_ButNotAtStartUp()
    {
        // At start-up an error that no model file can fix (the ONNX Runtime library) stops the service, as before.
        Assert.Throws<NotSupportedException>(() => new ModelSlot(() => throw new NotSupportedException("libonnxruntime.so: wrong architecture"), () => "a", NullLogger.Instance));

        // While running without a model, a new file that makes the encoder throw something unexpected must not escape
        // into the analysis stage or the watcher: it is shown as the reason, and the next change is tried again.
        string fingerprint = "a";
        Exception next = new ModelContractException("model file '/m.onnx' does not exist");
        using var slot = new ModelSlot(() => throw next, () => fingerprint, NullLogger.Instance);
        next = new NotSupportedException("ONNX Runtime: unsupported opset 99");
        fingerprint = "b";

        Assert.False(slot.TryLoad());
        Assert.Equal("ONNX Runtime: unsupported opset 99", slot.Problem);
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

using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>The turn-taking between live work and the re-analysis, without a pipeline (ReanalysisTests run it in the host).</summary>
public sealed class LiveWorkGateTests
{
    [Fact]
    public async Task WaitForTurnAsync_NothingLive_CompletesAtOnce()
    {
        var gate = new LiveWorkGate(() => 0);

        var turn = gate.WaitForTurnAsync(CancellationToken.None);

        Assert.True(turn.IsCompletedSuccessfully);
        await turn;
        Assert.Equal(0, gate.Waiting);
    }

    [Fact]
    public async Task WaitForTurnAsync_LiveItemPending_CompletesWhenItIsStoredNotBefore()
    {
        var gate = new LiveWorkGate(() => 0);
        gate.Enter();

        var turn = gate.WaitForTurnAsync(CancellationToken.None);

        Assert.False(turn.IsCompleted); // nothing but Exit can complete it
        Assert.Equal(1, gate.Waiting);
        gate.Exit();
        await turn.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, gate.Pending);
        Assert.Equal(0, gate.Waiting);
    }

    [Fact]
    public async Task WaitForTurnAsync_SpectrumStillQueuedForAnalysis_Waits()
    {
        // Acquisition wrote it; the analysis stage has not taken it yet (then it enters, and its store gives the turn).
        int queued = 1;
        var gate = new LiveWorkGate(() => Volatile.Read(ref queued));

        var turn = gate.WaitForTurnAsync(CancellationToken.None);

        Assert.False(turn.IsCompleted);
        Volatile.Write(ref queued, 0);
        gate.Enter();
        Assert.False(turn.IsCompleted);
        gate.Exit();
        await turn.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WaitForTurnAsync_OtherLiveItemsStillPending_OneTurnPerLiveItemStored()
    {
        // A live side that is never idle: each item stored gives one turn, so the re-analysis slows but never starves.
        var gate = new LiveWorkGate(() => 0);
        gate.Enter();
        gate.Enter();
        gate.Enter();

        var first = gate.WaitForTurnAsync(CancellationToken.None);
        gate.Exit();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        var second = gate.WaitForTurnAsync(CancellationToken.None);

        Assert.False(second.IsCompleted); // two items still pending: the turn was used
        gate.Exit();
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, gate.Pending);
    }

    [Fact]
    public async Task WaitForTurnAsync_CancelledWhileWaiting_ThrowsAndLeavesNoWaiter()
    {
        var gate = new LiveWorkGate(() => 0);
        gate.Enter();
        using var stopping = new CancellationTokenSource();

        var turn = gate.WaitForTurnAsync(stopping.Token);
        Assert.Equal(1, gate.Waiting);
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => turn.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, gate.Waiting);
        Assert.Equal(1, gate.Pending);
    }

    [Fact]
    public async Task WaitForTurnAsync_AlreadyCancelled_ThrowsWithoutWaiting()
    {
        var gate = new LiveWorkGate(() => 0);
        using var stopping = new CancellationTokenSource();
        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.WaitForTurnAsync(stopping.Token));
        Assert.Equal(0, gate.Waiting);
    }
}

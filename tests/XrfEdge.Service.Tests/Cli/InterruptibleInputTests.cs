using XrfEdge.Service.Cli;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// The reading loop of identify and eval at Ctrl-C: "interrupted" is input left unread, not a signal that came after the
/// input's end (that made identify exit 130 saying the rest was not read, and eval drop the metrics of a whole file).
/// </summary>
public sealed class InterruptibleInputTests
{
    /// <summary>Yields 1, 2, 3 and cancels <paramref name="signal"/> once the item numbered <paramref name="cancelAfter"/> has been taken.</summary>
    private static IEnumerable<int> Items(CancellationTokenSource signal, int cancelAfter)
    {
        for (var i = 1; i <= 3; i++)
        {
            yield return i;
            if (i == cancelAfter)
            {
                signal.Cancel();
            }
        }
    }

    [Fact]
    public void Read_SignalAfterTheLastItem_EveryItemAndNotInterrupted()
    {
        using var signal = new CancellationTokenSource();
        var input = new InterruptibleInput(signal.Token);

        var read = input.Read(Items(signal, cancelAfter: 3)).ToList();

        Assert.True(signal.IsCancellationRequested);
        Assert.Equal([1, 2, 3], read);
        Assert.False(input.Interrupted);
        // The next file is not started, and that does leave input unread.
        Assert.True(input.StopBeforeNext());
        Assert.True(input.Interrupted);
    }

    [Fact]
    public void Read_SignalAfterTheFirstItem_DropsTheItemReadWithItAndIsInterrupted()
    {
        using var signal = new CancellationTokenSource();
        var input = new InterruptibleInput(signal.Token);

        var read = input.Read(Items(signal, cancelAfter: 1)).ToList();

        // Item 2 was read when the signal had come: it goes unprocessed with the rest, so no half result is written.
        Assert.Equal([1], read);
        Assert.True(input.Interrupted);
    }

    /// <summary>Yields 1, then cancels <paramref name="signal"/> and throws as a cancelled read of a quiet pipe does.</summary>
    private static IEnumerable<int> ReadCancelledAfterOne(CancellationTokenSource signal)
    {
        yield return 1;
        signal.Cancel();
        throw new OperationCanceledException(signal.Token);
    }

    [Fact]
    public void Read_ReadCancelledByTheToken_EndsTheItemsAndIsInterrupted()
    {
        // CancellableStandardInput: Ctrl-C ends a read that waits for a quiet pipe's next line (until 2026-11-24 that read
        // blocked until the writer wrote again); the exception must end the input as the signal does, not the verb.
        using var signal = new CancellationTokenSource();
        var input = new InterruptibleInput(signal.Token);

        var read = input.Read(ReadCancelledAfterOne(signal)).ToList();

        Assert.Equal([1], read);
        Assert.True(input.Interrupted);
    }

    [Fact]
    public void Read_ReadCancelledByAnotherToken_PropagatesTheException()
    {
        // Only this verb's signal counts as an interruption; any other cancellation is a fault and surfaces.
        using var other = new CancellationTokenSource();
        var input = new InterruptibleInput(CancellationToken.None);

        Assert.Throws<OperationCanceledException>(() => input.Read(ReadCancelledAfterOne(other)).ToList());
        Assert.False(input.Interrupted);
    }

    [Fact]
    public void StopBeforeNext_NoSignal_False()
    {
        var input = new InterruptibleInput(CancellationToken.None);

        Assert.False(input.StopBeforeNext());
        Assert.Equal([1, 2, 3], input.Read([1, 2, 3]));
        Assert.False(input.Interrupted);
    }
}

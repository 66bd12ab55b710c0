using XrfEdge.Service.Cli;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// <see cref="ReadAhead{T}"/>: what lets <c>identify</c> write a live pipe's results as they come and stop on a read the
/// token cannot end. The sequences here block on events the tests set, as a quiet pipe blocks in read(2).
/// </summary>
public sealed class ReadAheadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Long enough that a reader with an item ready always delivers it: the failure's cost, not a measurement.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static List<int> TakeAll(ReadAhead<int> reading)
    {
        var items = new List<int>();
        while (reading.Next(Timeout.InfiniteTimeSpan, out var item) == ReadAheadResult.Item)
        {
            items.Add(item);
        }

        return items;
    }

    [Fact]
    public void Next_MoreItemsThanItsCapacity_AllInOrderThenEnd()
    {
        using var reading = new ReadAhead<int>(Enumerable.Range(0, 1000), capacity: 7, CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 1000), TakeAll(reading));
        Assert.Equal(ReadAheadResult.End, reading.Next(Timeout.InfiniteTimeSpan, out _));
        Assert.False(reading.Abandoned);
    }

    [Fact]
    public void Next_InputQuietAfterTwoItems_QuietUntilTheNextComes()
    {
        using var more = new ManualResetEventSlim();
        IEnumerable<int> Items()
        {
            yield return 1;
            yield return 2;
            Assert.True(more.Wait(Patience));
            yield return 3;
        }

        using var reading = new ReadAhead<int>(Items(), capacity: 4, CancellationToken.None);

        Assert.Equal(ReadAheadResult.Item, reading.Next(Wait, out var first));
        Assert.Equal(ReadAheadResult.Item, reading.Next(Wait, out var second));
        Assert.Equal(ReadAheadResult.Quiet, reading.Next(TimeSpan.FromMilliseconds(50), out _));
        more.Set();
        Assert.Equal(ReadAheadResult.Item, reading.Next(Wait, out var third));
        Assert.Equal(ReadAheadResult.End, reading.Next(Wait, out _));
        Assert.Equal([1, 2, 3], new[] { first, second, third });
    }

    [Fact]
    public void Next_SequenceThrows_ItemsBeforeItThenTheSameException()
    {
        IEnumerable<int> Items()
        {
            yield return 1;
            throw new IOException("disk gone");
        }

        using var reading = new ReadAhead<int>(Items(), capacity: 4, CancellationToken.None);

        Assert.Equal(ReadAheadResult.Item, reading.Next(Wait, out var item));
        Assert.Equal(1, item);
        var thrown = Assert.Throws<IOException>(() => reading.Next(Wait, out _));
        Assert.Equal("disk gone", thrown.Message);
    }

    [Fact]
    public void Next_StopWhileTheReaderIsInAReadTheTokenCannotEnd_GivesItUpAfterTheGraceWithTheItemsReadBefore()
    {
        // A FIFO named as a FILE: read(2) waits for the writer whatever the token says.
        using var stop = new CancellationTokenSource();
        using var release = new ManualResetEventSlim();
        using var inRead = new ManualResetEventSlim();
        IEnumerable<int> Items()
        {
            yield return 1;
            yield return 2;
            inRead.Set();
            release.Wait(Patience);
            yield return 3;
        }

        using var reading = new ReadAhead<int>(Items(), capacity: 4, stop.Token);
        Assert.True(inRead.Wait(Patience));
        stop.Cancel();

        var taken = TakeAll(reading);
        release.Set();

        Assert.Equal([1, 2], taken);
        Assert.True(reading.Abandoned);
    }

    [Fact]
    public void Next_StopAndTheReaderStopsAtItsNextItem_NotAbandoned()
    {
        // The reader checks the token between items (InterruptibleInput); its stop is not a give-up.
        using var stop = new CancellationTokenSource();
        using var quiet = new ManualResetEventSlim();
        IEnumerable<int> Items()
        {
            yield return 1;
            quiet.Set();
            stop.Token.WaitHandle.WaitOne(Patience);
        }

        using var reading = new ReadAhead<int>(Items(), capacity: 4, stop.Token);
        Assert.True(quiet.Wait(Patience));
        stop.Cancel();

        Assert.Equal([1], TakeAll(reading));
        Assert.False(reading.Abandoned);
    }

    [Fact]
    public void Dispose_ReaderWaitingForRoom_StopsReading()
    {
        // The consumer ended early (its stdout closed): the reader, waiting for room in a full buffer, reads no further.
        var read = 0;
        using var ended = new ManualResetEventSlim();
        IEnumerable<int> Items()
        {
            try
            {
                for (var i = 0; i < 1000; i++)
                {
                    Interlocked.Increment(ref read);
                    yield return i;
                }
            }
            finally
            {
                ended.Set();
            }
        }

        var reading = new ReadAhead<int>(Items(), capacity: 2, CancellationToken.None);
        Assert.Equal(ReadAheadResult.Item, reading.Next(Wait, out _));
        reading.Dispose();

        Assert.True(ended.Wait(Patience), "the reader went on after Dispose");
        Assert.InRange(Volatile.Read(ref read), 1, 5);
    }
}

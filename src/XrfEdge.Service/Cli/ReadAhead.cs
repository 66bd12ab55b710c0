using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace XrfEdge.Service.Cli;

/// <summary>What <see cref="ReadAhead{T}.Next"/> found.</summary>
internal enum ReadAheadResult
{
    /// <summary>An item, in input order.</summary>
    Item,

    /// <summary>None came within the quiet time: the input has gone quiet (a live pipe between a writer's spectra).</summary>
    Quiet,

    /// <summary>No more: the input ended, reading stopped at the token, or it was given up (<see cref="ReadAhead{T}.Abandoned"/>).</summary>
    End,
}

/// <summary>
/// Reads a sequence on a thread of its own, at most <c>capacity</c> items ahead of the consumer, so that the consumer can
/// tell "the input has gone quiet" from "more is coming" (<c>tail -f x.jsonl | xrfedge identify -</c>: until 2026-11-25
/// results were written per 256-spectrum batch or at the end, so a live pipe showed nothing for a long time), and so
/// that a stop does not wait on a read that ignores the token (a FIFO named as a FILE blocks in read(2) until its
/// writer's next line).
/// </summary>
/// <remarks>
/// The reading thread is a background thread: a read the token cannot end is left behind (<see cref="Abandoned"/>) and
/// dies with the process. Disposing stops the reader at its next item (it is not waited for).
/// </remarks>
/// <typeparam name="T">The items.</typeparam>
internal sealed class ReadAhead<T> : IDisposable
{
    /// <summary>How long a stop waits for the reader to reach the end of its current item before giving it up.</summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(1);

    private readonly Channel<T> _channel;
    private readonly CancellationTokenSource _disposed = new();
    private readonly CancellationToken _stop;
    private readonly Thread _reader;
    private readonly ManualResetEventSlim _readerDone = new();

    /// <summary>Starts reading <paramref name="items"/>.</summary>
    /// <param name="items">Read on the reading thread, which should stop at <paramref name="stop"/> by itself
    /// (<see cref="InterruptibleInput"/>).</param>
    /// <param name="capacity">Most items read and not yet taken.</param>
    /// <param name="stop">Ctrl-C/SIGTERM: waits for items end at it, and a reader still busy <see cref="StopGrace"/> later is given up.</param>
    public ReadAhead(IEnumerable<T> items, int capacity, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _stop = stop;
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _reader = new Thread(() => Produce(items)) { IsBackground = true, Name = "xrfedge read-ahead" };
        _reader.Start();
    }

    /// <summary>Whether a stop gave up on a reader that was still inside a read (the input left unread).</summary>
    public bool Abandoned { get; private set; }

    /// <summary>
    /// The next item; <see cref="ReadAheadResult.Quiet"/> when none came within <paramref name="quiet"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: wait for one or the end); <see cref="ReadAheadResult.End"/> at the end.
    /// </summary>
    /// <exception cref="Exception">What the sequence threw, as it threw it, once the items before it are taken.</exception>
    public ReadAheadResult Next(TimeSpan quiet, out T item)
    {
        while (true)
        {
            if (_channel.Reader.TryRead(out item!))
            {
                return ReadAheadResult.Item;
            }

            if (_channel.Reader.Completion.IsCompleted)
            {
                Rethrow(_channel.Reader.Completion);
                return ReadAheadResult.End;
            }

            if (_stop.IsCancellationRequested)
            {
                // The reader stops at the token between items; what it read before is still taken. One stuck in a read the
                // token cannot end is given up, and the items already read are what the consumer gets.
                if (Abandoned || !_readerDone.Wait(StopGrace))
                {
                    Abandoned = true;
                    return _channel.Reader.TryRead(out item!) ? ReadAheadResult.Item : ReadAheadResult.End;
                }

                continue;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop);
            if (quiet != Timeout.InfiniteTimeSpan)
            {
                wait.CancelAfter(quiet);
            }

            try
            {
                _channel.Reader.WaitToReadAsync(wait.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
            {
                return ReadAheadResult.Quiet;
            }
            catch (OperationCanceledException)
            {
                // The stop: the loop above waits for the reader.
            }
        }
    }

    /// <summary>Stops the reader at its next item; does not wait for it.</summary>
    public void Dispose()
    {
        _disposed.Cancel();
    }

    private void Produce(IEnumerable<T> items)
    {
        try
        {
            foreach (var item in items)
            {
                if (_disposed.IsCancellationRequested)
                {
                    break;
                }

                if (!_channel.Writer.TryWrite(item))
                {
                    _channel.Writer.WriteAsync(item, _disposed.Token).AsTask().GetAwaiter().GetResult();
                }
            }

            _channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            _channel.Writer.TryComplete();
        }
#pragma warning disable CA1031 // Any failure of the sequence is the consumer's to see, on its thread.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _channel.Writer.TryComplete(ex);
        }
        finally
        {
            _readerDone.Set();
        }
    }

    private static void Rethrow(Task completion)
    {
        if (completion.IsFaulted && completion.Exception?.InnerException is { } ex)
        {
            ExceptionDispatchInfo.Capture(ex).Throw();
        }
    }
}

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Puts the operator's live measurement before the re-analysis of measurements stored without a model
/// (<see cref="ReanalysisWorker"/>). The live side counts every item from the moment the analysis stage takes it
/// (<see cref="Enter"/>) until the publishing stage has stored it or given it up (<see cref="Exit"/>); a spectrum still
/// waiting in the acquisition → analysis channel counts too. Before each of its batches the re-analysis waits for its
/// turn (<see cref="WaitForTurnAsync"/>): at once while nothing live is in the pipeline, otherwise until the next live
/// item is stored. So a live item waits for at most one re-analysis batch, and a live side that is never idle
/// (Continuous presets back to back, a scan) still lets the re-analysis take one batch per live item stored: it slows,
/// it never stops. During a scan, whose points are stored many per second, that is a turn after nearly every point.
/// Before 2026-11-24 the re-analysis ran flat out beside the live pipeline,
/// and on a 2-core instrument the operator waited longer for the elements on screen (docs/PERFORMANCE.md,
/// "Re-analysis beside live measurements").
/// </summary>
internal sealed class LiveWorkGate
{
    private readonly Lock _lock = new();
    private readonly Func<int> _queued;
    private readonly List<Waiter> _waiters = [];
    private int _pending;

    /// <summary>Counts what <paramref name="channels"/>' spectra channel holds as live work too.</summary>
    public LiveWorkGate(PipelineChannels channels)
        : this(() => channels.Spectra.Reader.Count)
    {
        ArgumentNullException.ThrowIfNull(channels);
    }

    /// <param name="queued">How many live items wait to be taken by the analysis stage.</param>
    public LiveWorkGate(Func<int> queued)
    {
        _queued = queued ?? throw new ArgumentNullException(nameof(queued));
    }

    /// <summary>Live items taken by the analysis stage and not yet stored.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending;
            }
        }
    }

    /// <summary>Re-analysis batches waiting for their turn (0 or 1 in the service).</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>The analysis stage took a live item (a spectrum, or a result or scan end it passes on).</summary>
    public void Enter()
    {
        lock (_lock)
        {
            _pending++;
        }
    }

    /// <summary>
    /// The publishing stage is done with a live item: stored, or given up and logged as lost. Gives the waiting
    /// re-analysis its turn.
    /// </summary>
    public void Exit()
    {
        Waiter[] due;
        lock (_lock)
        {
            _pending = Math.Max(0, _pending - 1);
            if (_waiters.Count == 0)
            {
                return; // the usual case, once per stored measurement: nothing to copy
            }

            due = [.. _waiters];
            _waiters.Clear();
        }

        // Outside the lock; the continuations run asynchronously, never on the publishing stage's thread.
        foreach (var waiter in due)
        {
            waiter.Turn.TrySetResult();
        }
    }

    /// <summary>
    /// Completes at once while no live item is in the pipeline; otherwise when the next live item is stored
    /// (<see cref="Exit"/>). Hold nothing shared (the outbox, the encoder) while awaiting it.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public async Task WaitForTurnAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_lock)
        {
            if (_pending == 0 && _queued() == 0)
            {
                return;
            }

            waiter = new Waiter();
            _waiters.Add(waiter);
        }

        try
        {
            await waiter.Turn.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                _waiters.Remove(waiter);
            }

            throw;
        }
    }

    private sealed class Waiter
    {
        public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

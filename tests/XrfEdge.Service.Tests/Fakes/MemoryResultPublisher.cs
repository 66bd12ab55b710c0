using System.Collections.Concurrent;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>Keeps what would be stored/published in memory; waits let a test block until something arrives (no sleeps).</summary>
internal sealed class MemoryResultPublisher : IResultPublisher
{
    private readonly object _gate = new();
    private readonly List<MeasurementResult> _results = [];
    private readonly List<ScanSummary> _summaries = [];
    private readonly List<ServiceStatus> _statuses = [];
    private readonly List<HealthReport> _health = [];

    private int _storeAttempts;

    public bool IsConnected { get; set; } = true;

    /// <summary>When set, a store throws what this returns (what MqttResultPublisher throws on a full disk), unless null.</summary>
    public Func<MeasurementResult, Exception?>? StoreFailure { get; set; }

    /// <summary>Calls of <see cref="StoreAsync"/>, failed ones included.</summary>
    public int StoreAttempts => Volatile.Read(ref _storeAttempts);

    /// <summary>What <see cref="PendingCount"/> runs (0 when unset); a test can make it block like an outbox waiting on a lock.</summary>
    public Func<long>? PendingCountSource { get; set; }

    public long PendingCount => PendingCountSource?.Invoke() ?? 0;

    private readonly CancellationTokenSource _damaged = new();

    public CancellationToken StorageDamaged => _damaged.Token;

    public XrfEdge.Messaging.Outbox.OutboxCorruptException? StorageDamage { get; private set; }

    private long _roomMade;

    public event EventHandler? ReanalysisRoomMade;

    public long ReanalysisRoomMadeCount => Interlocked.Read(ref _roomMade);

    /// <summary>What SqliteOutbox does when delivered rows leave the queue within the re-analysis share.</summary>
    public void MakeReanalysisRoom()
    {
        Interlocked.Increment(ref _roomMade);
        ReanalysisRoomMade?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>What SqliteOutbox does when a statement meets a damaged file: records the error, cancels the token.</summary>
    public void Damage(XrfEdge.Messaging.Outbox.OutboxCorruptException error)
    {
        StorageDamage = error;
        _damaged.Cancel();
    }

    public bool Started { get; private set; }

    public bool Stopped { get; private set; }

    public IReadOnlyList<MeasurementResult> Results
    {
        get
        {
            lock (_gate)
            {
                return [.. _results];
            }
        }
    }

    public IReadOnlyList<ScanSummary> Summaries
    {
        get
        {
            lock (_gate)
            {
                return [.. _summaries];
            }
        }
    }

    public IReadOnlyList<ServiceStatus> Statuses
    {
        get
        {
            lock (_gate)
            {
                return [.. _statuses];
            }
        }
    }

    public IReadOnlyList<HealthReport> Health
    {
        get
        {
            lock (_gate)
            {
                return [.. _health];
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Started = true;
        return Task.CompletedTask;
    }

    /// <summary>When set, every store takes this long (a slow card: one fsync'd commit per result).</summary>
    public TimeSpan? StoreDelay { get; set; }

    /// <summary>When true, <see cref="StopAsync"/> drains until its token is cancelled (a backlog that never empties).</summary>
    public bool DrainsUntilCancelled { get; set; }

    /// <summary>True once <see cref="StopAsync"/> has returned.</summary>
    public bool StopCompleted { get; private set; }

    public async ValueTask StoreAsync(MeasurementResult result, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _storeAttempts);
        if (StoreDelay is { } delay)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }

        if (StoreFailure?.Invoke(result) is { } error)
        {
            throw error;
        }

        Add(_results, result);
    }

    /// <summary>Thrown by <see cref="ReadIncompleteMeasurements"/> when set (a store that fails under the re-analysis).</summary>
    public Exception? IncompleteReadFailure { get; set; }

    /// <summary>Nothing is stored as incomplete here: the re-analysis finds nothing (its tests use the real outbox).</summary>
    public IReadOnlyList<XrfEdge.Messaging.Outbox.StoredIncompleteMeasurement> ReadIncompleteMeasurements(long afterRowId, int max) =>
        IncompleteReadFailure is { } failure ? throw failure : [];

    public ValueTask StoreReanalysedAsync(ReanalysedMeasurement measurement, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("MemoryResultPublisher stores nothing as incomplete, so nothing can be re-analysed");

    public ValueTask<IReadOnlyList<long>> StoreReanalysedScanPointsAsync(IReadOnlyList<ReanalysedScanPoint> points, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("MemoryResultPublisher stores nothing as incomplete, so no scan point can be re-analysed");

    public ValueTask StoreScanSummaryAsync(ScanSummary summary, CancellationToken cancellationToken)
    {
        Add(_summaries, summary);
        return ValueTask.CompletedTask;
    }

    public ValueTask PublishStatusAsync(ServiceStatus status, CancellationToken cancellationToken)
    {
        Add(_statuses, status);
        return ValueTask.CompletedTask;
    }

    public ValueTask PublishHealthAsync(HealthReport health, CancellationToken cancellationToken)
    {
        Add(_health, health);
        return ValueTask.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Stopped = true;
        if (DrainsUntilCancelled)
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The drain budget is spent; the rest stays in the outbox.
            }
        }

        StopCompleted = true;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Waits until <paramref name="condition"/> holds (checked after every change), at most 10 s.</summary>
    public Task<bool> WaitUntilAsync(Func<MemoryResultPublisher, bool> condition) => WaitUntilAsync(condition, TimeSpan.FromSeconds(10));

    /// <summary>
    /// Waits until <paramref name="condition"/> holds (checked after every change, and every 100 ms for conditions on
    /// something else too), at most <paramref name="patience"/>: for results that wait on real I/O (a pty, a child process).
    /// </summary>
    public async Task<bool> WaitUntilAsync(Func<MemoryResultPublisher, bool> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            Task changed;
            lock (_gate)
            {
                if (condition(this))
                {
                    return true;
                }

                changed = _change.Task;
            }

            await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(100))).ConfigureAwait(false);
        }

        return condition(this);
    }

    private TaskCompletionSource _change = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Add<T>(List<T> list, T item)
    {
        TaskCompletionSource change;
        lock (_gate)
        {
            list.Add(item);
            change = _change;
            _change = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        change.TrySetResult();
    }
}

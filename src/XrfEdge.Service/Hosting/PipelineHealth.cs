using System.Threading.Channels;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// Liveness of the pipeline workers, the condition for feeding the systemd watchdog. A worker is alive while it
/// waits for input (idle) or while it has been busy for less than its expected time plus Health:StallSeconds; a
/// worker that ended unexpectedly is dead. Time comes from <see cref="TimeProvider"/> so tests need no sleeps.
/// </summary>
internal sealed class PipelineHealth(TimeProvider time, TimeSpan stallAllowance)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _workers = new(StringComparer.Ordinal);

    /// <summary>Marks a worker as waiting for input.</summary>
    public void Idle(string worker) => Set(worker, new Entry(WorkerPhase.Idle, time.GetTimestamp(), TimeSpan.Zero, null));

    /// <summary>Marks a worker busy on something expected to take <paramref name="expected"/>.</summary>
    public void Busy(string worker, TimeSpan expected) => Set(worker, new Entry(WorkerPhase.Busy, time.GetTimestamp(), expected, null));

    /// <summary>Marks a worker as ended for good (a crash, or done while the service should still run).</summary>
    public void Dead(string worker, string reason)
    {
        AnyWorkerCrashed = true;
        Set(worker, new Entry(WorkerPhase.Dead, time.GetTimestamp(), TimeSpan.Zero, reason));
    }

    /// <summary>True once any worker crashed in this run: the process then exits non-zero so that systemd restarts it.</summary>
    public bool AnyWorkerCrashed { get; private set; }

    /// <summary>Forgets a worker that ended on purpose (service stopping).</summary>
    public void Finished(string worker)
    {
        lock (_gate)
        {
            if (_workers.TryGetValue(worker, out var entry) && entry.Phase == WorkerPhase.Dead)
            {
                return;
            }

            _workers.Remove(worker);
        }
    }

    /// <summary>
    /// Writes <paramref name="item"/> to the next stage. While that channel is full the worker counts as waiting, not
    /// busy: waiting on a slower stage downstream is backpressure, and the stage that holds things up (for example
    /// publishing retrying a store on a full disk) is the one that shows as stalled if it is. Without this a full disk
    /// starved the systemd watchdog through the upstream stages and the restart lost every result held in memory.
    /// </summary>
    public async ValueTask WriteAsync<T>(string worker, ChannelWriter<T> writer, T item)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (writer.TryWrite(item))
        {
            return;
        }

        Entry? before;
        lock (_gate)
        {
            before = _workers.TryGetValue(worker, out var entry) ? entry : null;
        }

        Idle(worker);
        await writer.WriteAsync(item, CancellationToken.None).ConfigureAwait(false);
        if (before is { Phase: WorkerPhase.Busy } busy)
        {
            Busy(worker, busy.Expected); // the rest of the work gets its full allowance again
        }
    }

    /// <summary>True when no worker is dead or stalled; <paramref name="problem"/> names the first that is.</summary>
    public bool IsAlive(out string? problem)
    {
        long now = time.GetTimestamp();
        lock (_gate)
        {
            foreach (var (name, entry) in _workers)
            {
                if (entry.Phase == WorkerPhase.Dead)
                {
                    problem = $"{name} stopped: {entry.Reason}";
                    return false;
                }

                if (entry.Phase == WorkerPhase.Busy)
                {
                    var busyFor = time.GetElapsedTime(entry.Since, now);
                    if (busyFor > entry.Expected + stallAllowance)
                    {
                        problem = $"{name} busy for {busyFor.TotalSeconds:F0} s (expected {entry.Expected.TotalSeconds:F0} s)";
                        return false;
                    }
                }
            }
        }

        problem = null;
        return true;
    }

    private void Set(string worker, Entry entry)
    {
        lock (_gate)
        {
            _workers[worker] = entry;
        }
    }

    private enum WorkerPhase
    {
        Idle,
        Busy,
        Dead,
    }

    private readonly record struct Entry(WorkerPhase Phase, long Since, TimeSpan Expected, string? Reason);
}

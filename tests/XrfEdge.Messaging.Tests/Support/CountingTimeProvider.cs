namespace XrfEdge.Messaging.Tests.Support;

/// <summary>The system clock and real timers, counting the timers created and not yet disposed (a transport's supervisor).</summary>
public sealed class CountingTimeProvider : TimeProvider
{
    private int _live;

    /// <summary>Timers created through this provider and not disposed yet.</summary>
    public int LiveTimers => Volatile.Read(ref _live);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _live);
        return new CountedTimer(System.CreateTimer(callback, state, dueTime, period), this);
    }

    private sealed class CountedTimer(ITimer inner, CountingTimeProvider owner) : ITimer
    {
        private int _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

        public void Dispose()
        {
            Forget();
            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Forget();
            return inner.DisposeAsync();
        }

        private void Forget()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._live);
            }
        }
    }
}

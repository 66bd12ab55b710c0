namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A clock the test moves by hand (Microsoft.Extensions.TimeProvider.Testing is not obtainable here): <see cref="Advance"/>
/// moves the wall clock and the monotonic one (<see cref="GetTimestamp"/>) together, as time passing does;
/// <see cref="StepWallClock"/> moves the wall clock alone, as setting it or an NTP correction does. Timers are not faked.
/// </summary>
public sealed class FakeTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = start;
    private long _ticks;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _ticks;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
            _ticks += by.Ticks;
        }
    }

    /// <summary>Sets the wall clock forward (or back, negative) without time passing.</summary>
    public void StepWallClock(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }
}

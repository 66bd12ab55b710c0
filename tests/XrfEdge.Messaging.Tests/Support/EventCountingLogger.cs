using Microsoft.Extensions.Logging;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>An ILogger that only counts the entries with one event id (e.g. 7005, network thread restarted).</summary>
public sealed class EventCountingLogger<T>(int countedEventId) : ILogger<T>
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == countedEventId)
        {
            Interlocked.Increment(ref _count);
        }
    }
}

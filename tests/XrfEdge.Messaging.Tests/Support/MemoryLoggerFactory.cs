using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A logger factory (and logger) that keeps every entry in memory, with its event id, formatted text and exception, so
/// that a test can ask what the code under test reported (e.g. how often event 7030, "broker refused", was logged).
/// </summary>
public sealed class MemoryLoggerFactory : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<MemoryLogEntry> _entries = new();

    public IReadOnlyCollection<MemoryLogEntry> Entries => _entries;

    /// <summary>The entries with event id <paramref name="eventId"/>, oldest first.</summary>
    public IReadOnlyList<MemoryLogEntry> WithEvent(int eventId) => [.. _entries.Where(e => e.EventId == eventId)];

    public int Count(int eventId) => _entries.Count(e => e.EventId == eventId);

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _entries.Enqueue(new MemoryLogEntry(eventId.Id, logLevel, formatter(state, exception), exception));
    }

    public void Dispose()
    {
    }
}

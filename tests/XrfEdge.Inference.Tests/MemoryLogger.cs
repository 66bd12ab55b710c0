using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace XrfEdge.Inference.Tests;

/// <summary>An ILogger that keeps every line in memory, for asserting what was logged.</summary>
internal sealed class MemoryLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Event, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception)));
}

using Microsoft.Extensions.Logging;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>Keeps every log entry of a host in memory (event id, level, text), so a test can ask what was reported.</summary>
internal sealed class MemoryLogProvider : ILoggerProvider, ILogger
{
    private readonly List<(int EventId, LogLevel Level, string Message)> _entries = [];

    /// <summary>The entries with event id <paramref name="eventId"/>, oldest first.</summary>
    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> WithEvent(int eventId)
    {
        lock (_entries)
        {
            return [.. _entries.Where(e => e.EventId == eventId)];
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_entries)
        {
            _entries.Add((eventId.Id, logLevel, formatter(state, exception)));
        }
    }

    public void Dispose()
    {
    }
}

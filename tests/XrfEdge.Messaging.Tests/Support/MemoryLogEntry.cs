using Microsoft.Extensions.Logging;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>One entry kept by <see cref="MemoryLoggerFactory"/>.</summary>
public sealed record MemoryLogEntry(int EventId, LogLevel Level, string Message, Exception? Exception);

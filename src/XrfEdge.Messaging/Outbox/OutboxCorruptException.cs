namespace XrfEdge.Messaging.Outbox;

/// <summary>
/// The outbox file became damaged while open (SQLite result SQLITE_CORRUPT 11 or SQLITE_NOTADB 26 on a write or a read):
/// unlike a full disk or a lock, waiting cannot cure it. Only <see cref="SqliteOutbox.Open"/> repairs it, by moving the
/// file aside and salvaging its readable rows, so the owner of the outbox must close it and open it again (the service
/// stops and systemd restarts it). What the failed call was to store was not stored.
/// </summary>
public sealed class OutboxCorruptException : IOException
{
    /// <summary>Creates the exception.</summary>
    public OutboxCorruptException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public OutboxCorruptException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause (the <c>SqliteException</c>).</summary>
    public OutboxCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the damaged file <paramref name="databasePath"/>.</summary>
    public OutboxCorruptException(string message, string databasePath, Exception innerException)
        : base(message, innerException)
    {
        DatabasePath = databasePath;
    }

    /// <summary>The damaged database file, when known.</summary>
    public string? DatabasePath { get; }
}

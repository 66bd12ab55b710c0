namespace XrfEdge.Messaging.Outbox;

/// <summary>
/// An outbox file could not be opened or read by a reader (<see cref="SqliteOutbox.ReadStoredResults"/>): the path is a
/// directory, the file cannot be opened (SQLite result SQLITE_CANTOPEN 14, no permission), another process holds a lock
/// on it (SQLITE_BUSY 5, SQLITE_LOCKED 6), or reading it failed for a reason outside the file's contents (SQLITE_IOERR
/// 10, SQLITE_READONLY 8, SQLITE_NOMEM 7, …; https://www.sqlite.org/rescode.html). Nothing is known about its
/// contents: unlike <see cref="OutboxCorruptException"/> or "not an XrfEdge outbox" this is no reason to move the file
/// aside or delete it. The message names the file, the cause and SQLite's own error code and text.
/// </summary>
public sealed class OutboxUnavailableException : IOException
{
    /// <summary>Creates the exception.</summary>
    public OutboxUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public OutboxUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause (the <c>SqliteException</c>).</summary>
    public OutboxUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the file <paramref name="databasePath"/>.</summary>
    public OutboxUnavailableException(string message, string databasePath, bool isBusy, Exception? innerException)
        : base(message, innerException)
    {
        DatabasePath = databasePath;
        IsBusy = isBusy;
    }

    /// <summary>The file that could not be opened or read, when known.</summary>
    public string? DatabasePath { get; }

    /// <summary>True when another process held a lock on the file (SQLITE_BUSY or SQLITE_LOCKED): trying again later may succeed.</summary>
    public bool IsBusy { get; }
}

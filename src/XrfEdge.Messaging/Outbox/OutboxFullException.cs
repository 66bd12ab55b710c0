namespace XrfEdge.Messaging.Outbox;

/// <summary>The outbox refused a new row (disk full, file cap, or byte cap under <see cref="OutboxFullPolicy.RejectNew"/>). Stored rows are kept.</summary>
public sealed class OutboxFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OutboxFullException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public OutboxFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public OutboxFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

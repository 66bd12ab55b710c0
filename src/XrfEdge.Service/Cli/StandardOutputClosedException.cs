namespace XrfEdge.Service.Cli;

/// <summary>
/// A write to standard output failed with EPIPE: stdout is a pipe whose reader has gone (<c>xrfedge identify FILE | head
/// -1</c>). Thrown by <see cref="PipeStandardOutput"/>; the verbs that stream results end on it with
/// <see cref="PipeStandardOutput.ClosedExitCode"/>, since nobody can see what they would still write.
/// </summary>
internal sealed class StandardOutputClosedException : IOException
{
    public StandardOutputClosedException()
        : base("standard output is a pipe whose reader has closed it")
    {
    }

    public StandardOutputClosedException(string message)
        : base(message)
    {
    }

    public StandardOutputClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

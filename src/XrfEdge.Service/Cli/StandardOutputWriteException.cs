namespace XrfEdge.Service.Cli;

/// <summary>
/// A write to standard output failed for a reason other than a closed pipe: a full disk or file system under
/// <c>xrfedge identify … &gt; results.jsonl</c> (ENOSPC), a file over its size limit (EFBIG), an I/O error. Thrown by
/// <see cref="PipeStandardOutput"/>; the verbs that stream results end on it with one line on stderr naming the cause
/// and <see cref="PipeStandardOutput.WriteFailedExitCode"/>. Until 2026-11-24 it ended them with a stack trace.
/// </summary>
internal sealed class StandardOutputWriteException : IOException
{
    public StandardOutputWriteException()
        : base("cannot write to standard output")
    {
    }

    public StandardOutputWriteException(string message)
        : base(message)
    {
    }

    public StandardOutputWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

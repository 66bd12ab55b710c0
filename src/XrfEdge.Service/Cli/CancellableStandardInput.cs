using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using XrfEdge.Service.Native;

namespace XrfEdge.Service.Cli;

/// <summary>
/// Standard input as a stream whose read, waiting on a pipe that has gone quiet (<c>tail -f x.jsonl | xrfedge identify
/// -</c>), ends with <see cref="OperationCanceledException"/> once the token is cancelled. <see cref="Console.OpenStandardInput()"/>
/// blocks in read(2) until the writer's next line, so until 2026-11-24 Ctrl-C took effect only when one came (or never).
/// </summary>
/// <remarks>
/// A pipe or socket is read through <see cref="AnonymousPipeClientStream"/>, whose asynchronous read .NET runs on its
/// socket engine (epoll) on Unix and cancels there; it is the stream <c>Process</c> reads a child's output with. A
/// redirected regular file never waits for a writer and is read as before (epoll refuses regular files). That engine
/// makes the descriptor non-blocking, which is a flag of the open file description shared with every process that reads
/// the same pipe (<c>producer | { xrfedge identify -; next; }</c>, a script's own stdin): disposing restores the flags
/// found at <see cref="Open"/>, or the next reader's read fails with EAGAIN instead of waiting.
/// </remarks>
internal sealed class CancellableStandardInput : Stream
{
    private const int StandardInputFd = 0;

    private readonly Stream _inner;
    private readonly CancellationToken _cancellationToken;

    /// <summary>fd 0's file status flags before the socket engine made it non-blocking; −1 when they could not be read.</summary>
    private readonly int _flags;

    private CancellableStandardInput(Stream inner, int flags, CancellationToken cancellationToken)
    {
        _inner = inner;
        _cancellationToken = cancellationToken;
        _flags = flags;
    }

    /// <summary>Standard input, cancellable by <paramref name="cancellationToken"/> when it is a pipe or socket.</summary>
    public static Stream Open(CancellationToken cancellationToken)
    {
        var flags = LibC.Fcntl(StandardInputFd, LibC.F_GETFL, 0);
        PipeStream pipe;
        try
        {
            pipe = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(0, ownsHandle: false));
        }
        catch (IOException)
        {
            // "Invalid pipe handle": a regular file (or a device), whose reads do not wait for a writer.
            return Console.OpenStandardInput();
        }

        return new CancellableStandardInput(pipe, flags, cancellationToken);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) =>
        _inner.ReadAsync(buffer.AsMemory(offset, count), _cancellationToken).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The pipe stream is left to the process's end: its socket would close fd 0, and a socket disposed on a
            // descriptor made blocking again waits for ever. A failure leaves nothing to do.
            if (_flags >= 0 && (_flags & LibC.O_NONBLOCK) == 0)
            {
                _ = LibC.Fcntl(StandardInputFd, LibC.F_SETFL, _flags);
            }
        }

        base.Dispose(disposing);
    }
}

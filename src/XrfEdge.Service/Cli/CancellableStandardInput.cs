using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;

namespace XrfEdge.Service.Cli;

/// <summary>
/// Standard input as a stream whose read, waiting on a pipe that has gone quiet (<c>tail -f x.jsonl | xrfedge identify
/// -</c>), ends with <see cref="OperationCanceledException"/> once the token is cancelled. <see cref="Console.OpenStandardInput()"/>
/// blocks in read(2) until the writer's next line, so until 2026-11-24 Ctrl-C took effect only when one came (or never).
/// </summary>
/// <remarks>
/// A pipe or socket is read through <see cref="AnonymousPipeClientStream"/>, whose asynchronous read .NET runs on its
/// socket engine (epoll) on Unix and cancels there; it is the stream <c>Process</c> reads a child's output with. A
/// redirected regular file never waits for a writer and is read as before (epoll refuses regular files).
/// </remarks>
internal sealed class CancellableStandardInput : Stream
{
    private readonly Stream _inner;
    private readonly CancellationToken _cancellationToken;

    private CancellableStandardInput(Stream inner, CancellationToken cancellationToken)
    {
        _inner = inner;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Standard input, cancellable by <paramref name="cancellationToken"/> when it is a pipe or socket.</summary>
    public static Stream Open(CancellationToken cancellationToken)
    {
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

        return new CancellableStandardInput(pipe, cancellationToken);
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
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

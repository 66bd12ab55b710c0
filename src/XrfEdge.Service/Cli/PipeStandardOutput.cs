using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XrfEdge.Service.Cli;

/// <summary>
/// Standard output for the verbs that stream results (<c>identify</c>, <c>eval</c>, <c>rebin</c>) when it is a pipe: a
/// write that the pipe's reader can no longer take (EPIPE) throws <see cref="StandardOutputClosedException"/>.
/// <see cref="Console.Out"/> takes EPIPE for success (ConsolePal.Unix "pretends" the write succeeded, and the runtime
/// ignores SIGPIPE), so until 2026-11-24 <c>xrfedge identify many.jsonl | head -1</c> identified every remaining spectrum
/// for nobody and exited 0.
/// </summary>
internal static class PipeStandardOutput
{
    /// <summary>
    /// Exit code of a verb whose standard output was closed by its reader: 141 = 128 + SIGPIPE (13), what a shell reports
    /// for cat, grep or python killed by SIGPIPE in the same place, so <c>set -o pipefail</c> scripts see the same thing.
    /// </summary>
    public const int ClosedExitCode = 141;

    /// <summary>EPIPE on Linux (asm-generic/errno-base.h), the HResult of the IOException FileStream raises for it.</summary>
    private const int Epipe = 32;

    /// <summary>
    /// A line-flushed UTF-8 writer on file descriptor 1 when standard output is a pipe or socket (not seekable, not a
    /// terminal), or null: a file is never closed under a writer, and a FileStream on a seekable descriptor writes at
    /// its own offset, which a shell's <c>{ a; b; } &gt; out</c> shares with the next command.
    /// </summary>
    public static TextWriter? TryOpen()
    {
        if (!Console.IsOutputRedirected)
        {
            return null;
        }

        var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        if (stream.CanSeek)
        {
            stream.Dispose();
            return null;
        }

        return new StreamWriter(new EpipeStream(stream), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 4096)
        {
            // As Console.Out: each line reaches the reader when written (identify - on a live pipe).
            AutoFlush = true,
        };
    }

    /// <summary>Whether <paramref name="exception"/> is a write's EPIPE.</summary>
    private static bool IsClosedPipe(IOException exception) => exception is StandardOutputClosedException || exception.HResult == Epipe;

    /// <summary>A write-only pass-through that turns EPIPE into <see cref="StandardOutputClosedException"/>.</summary>
    private sealed class EpipeStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            try
            {
                inner.Write(buffer);
            }
            catch (IOException ex) when (IsClosedPipe(ex))
            {
                throw new StandardOutputClosedException("standard output is a pipe whose reader has closed it", ex);
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XrfEdge.Service.Cli;

/// <summary>
/// Standard output for the verbs that stream results (<c>identify</c>, <c>eval</c>, <c>rebin</c>) when it is redirected:
/// a write that a pipe's reader can no longer take (EPIPE) throws <see cref="StandardOutputClosedException"/>, any other
/// failed write (a full disk under <c>&gt; results.jsonl</c>) <see cref="StandardOutputWriteException"/>; <see cref="Run"/>
/// turns them into exit codes. <see cref="Console.Out"/> takes EPIPE for success (ConsolePal.Unix "pretends" the write
/// succeeded, and the runtime ignores SIGPIPE), so until 2026-11-24 <c>xrfedge identify many.jsonl | head -1</c>
/// identified every remaining spectrum for nobody and exited 0; and a full disk ended the verb with a stack trace.
/// </summary>
internal static class PipeStandardOutput
{
    /// <summary>
    /// Exit code of a verb whose standard output was closed by its reader: 141 = 128 + SIGPIPE (13), what a shell reports
    /// for cat, grep or python killed by SIGPIPE in the same place, so <c>set -o pipefail</c> scripts see the same thing.
    /// </summary>
    public const int ClosedExitCode = 141;

    /// <summary>
    /// Exit code of a verb whose standard output could not be written (<see cref="StandardOutputWriteException"/>): 74,
    /// EX_IOERR of sysexits.h, as <c>run</c> uses 78 (EX_CONFIG). What was written before stays written.
    /// </summary>
    public const int WriteFailedExitCode = 74;

    /// <summary>EPIPE on Linux (asm-generic/errno-base.h), the HResult of the IOException FileStream raises for it.</summary>
    private const int Epipe = 32;

    /// <summary>
    /// A line-flushed UTF-8 writer on file descriptor 1 when standard output is redirected, or null on a terminal. On a
    /// pipe or socket it writes through a FileStream on descriptor 1; on a file through the console's own stream
    /// (<see cref="Console.OpenStandardOutput()"/>, a duplicate of descriptor 1 written with write(2)), since a FileStream
    /// on a seekable descriptor writes at its own offset, which a shell's <c>{ a; b; } &gt; out</c> shares with the next
    /// command. Either way a failed write throws one of the two exceptions above instead of a bare IOException.
    /// </summary>
    public static TextWriter? TryOpen()
    {
        if (!Console.IsOutputRedirected)
        {
            return null;
        }

        Stream stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        if (stream.CanSeek)
        {
            stream.Dispose();
            stream = Console.OpenStandardOutput();
        }

        return new StreamWriter(new CheckedStream(stream), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 4096)
        {
            // As Console.Out: each line reaches the reader when written (identify - on a live pipe).
            AutoFlush = true,
        };
    }

    /// <summary>
    /// Runs a streaming verb's body: a closed pipe ends it with <see cref="ClosedExitCode"/> and nothing more to say; a
    /// failed write with one line on <paramref name="error"/> (<c>xrfedge identify: cannot write to standard output: No
    /// space left on device</c>) and <see cref="WriteFailedExitCode"/>.
    /// </summary>
    public static int Run(string verb, TextWriter error, Func<int> body)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return body();
        }
        catch (StandardOutputClosedException)
        {
            return ClosedExitCode;
        }
        catch (StandardOutputWriteException ex)
        {
            error.WriteLine($"xrfedge {verb}: {ex.Message}");
            return WriteFailedExitCode;
        }
    }

    /// <summary>
    /// A write-only pass-through that turns EPIPE into <see cref="StandardOutputClosedException"/> and any other failed
    /// write into <see cref="StandardOutputWriteException"/>.
    /// </summary>
    private sealed class CheckedStream(Stream inner) : Stream
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
            catch (IOException ex) when (ex.HResult == Epipe)
            {
                throw new StandardOutputClosedException("standard output is a pipe whose reader has closed it", ex);
            }
            catch (IOException ex)
            {
                throw new StandardOutputWriteException("cannot write to standard output: " + ex.Message, ex);
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

namespace XrfEdge.Devices.Native;

/// <summary>
/// A non-seekable <see cref="Stream"/> over a non-blocking tty or pty descriptor. Reads wait with
/// <c>poll(2)</c> in short slices so that cancellation and time-outs take effect within
/// <see cref="PollSliceMilliseconds"/>; a hang-up (cable pulled, pty master closed) surfaces as an
/// <see cref="IOException"/> naming the device, never as a silent zero-length read.
/// </summary>
internal sealed class FileDescriptorStream : Stream, IDiscardableInput, IHangUpSignal
{
    /// <summary>Longest single poll, ms: bounds the delay before a cancellation is seen.</summary>
    public const int PollSliceMilliseconds = 20;

    private readonly FileDescriptorHandle _handle;
    private readonly string _name;
    private readonly bool _ownsHandle;

    public FileDescriptorStream(FileDescriptorHandle handle, string name, bool ownsHandle)
    {
        _handle = handle;
        _name = name;
        _ownsHandle = ownsHandle;
    }

    /// <summary>Read time-out, ms, for the synchronous <see cref="Read(byte[], int, int)"/>; −1 waits forever.</summary>
    public override int ReadTimeout { get; set; } = -1;

    /// <summary>Write time-out, ms; −1 waits forever.</summary>
    public override int WriteTimeout { get; set; } = -1;

    public override bool CanTimeout => true;

    public override bool CanRead => !_handle.IsClosed;

    public override bool CanWrite => !_handle.IsClosed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = ReadCore(buffer, ReadTimeout, CancellationToken.None);
        return read >= 0 ? read : throw new TimeoutException($"{_name}: no data within {ReadTimeout} ms");
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Serial reads are one-at-a-time per port, so a pool thread blocking in short polls is cheap
        // and keeps cancellation prompt without an epoll integration.
        await Task.Yield();
        return ReadCore(buffer.Span, -1, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => WriteCore(buffer, WriteTimeout, CancellationToken.None);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        WriteCore(buffer.Span, WriteTimeout, cancellationToken);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public void DiscardInput()
    {
        ThrowIfClosed();
        if (LibC.TcFlush(_handle.Fd, LibC.TCIFLUSH) != 0)
        {
            throw Error("tcflush", LibC.LastError);
        }
    }

    /// <inheritdoc />
    public unsafe bool IsHungUp
    {
        get
        {
            if (_handle.IsClosed)
            {
                return true;
            }

            // Events 0: POLLHUP and POLLERR are reported whatever is asked (poll(2)); a hung-up tty reports both, a pty
            // slave whose master closed POLLHUP. A failing poll says nothing about the device.
            var fd = new LibC.PollFd { fd = _handle.Fd, events = 0 };
            return LibC.Poll(&fd, 1, 0) > 0 && (fd.revents & (LibC.POLLHUP | LibC.POLLERR | LibC.POLLNVAL)) != 0;
        }
    }

    /// <summary>Bytes waiting in the kernel's input queue (FIONREAD).</summary>
    public unsafe int BytesAvailable
    {
        get
        {
            ThrowIfClosed();
            int count = 0;
            if (LibC.Ioctl(_handle.Fd, LibC.FIONREAD, &count) != 0)
            {
                throw Error("FIONREAD", LibC.LastError);
            }

            return count;
        }
    }

    /// <summary>Reads at least one byte; returns −1 when <paramref name="timeoutMilliseconds"/> passed with none.</summary>
    private unsafe int ReadCore(Span<byte> buffer, int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        var waited = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfClosed();
            nint n;
            fixed (byte* p = buffer)
            {
                n = LibC.Read(_handle.Fd, p, (nuint)buffer.Length);
            }

            if (n > 0)
            {
                return (int)n;
            }

            if (n == 0)
            {
                throw new IOException($"{_name}: device hung up (end of file); the cable may have been pulled");
            }

            var errno = LibC.LastError;
            if (errno == LibC.EINTR)
            {
                continue;
            }

            if (errno != LibC.EAGAIN)
            {
                throw Error("read", errno);
            }

            if (timeoutMilliseconds >= 0 && waited >= timeoutMilliseconds)
            {
                return -1;
            }

            var slice = timeoutMilliseconds < 0 ? PollSliceMilliseconds : Math.Min(PollSliceMilliseconds, timeoutMilliseconds - waited);
            var revents = WaitFor(LibC.POLLIN, slice);
            waited += slice;
            if ((revents & (LibC.POLLHUP | LibC.POLLERR | LibC.POLLNVAL)) != 0 && (revents & LibC.POLLIN) == 0)
            {
                throw new IOException($"{_name}: device hung up (poll revents 0x{revents:X}); the cable may have been pulled");
            }
        }
    }

    private unsafe void WriteCore(ReadOnlySpan<byte> buffer, int timeoutMilliseconds, CancellationToken cancellationToken)
    {
        var waited = 0;
        while (!buffer.IsEmpty)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfClosed();
            nint n;
            fixed (byte* p = buffer)
            {
                n = LibC.Write(_handle.Fd, p, (nuint)buffer.Length);
            }

            if (n > 0)
            {
                buffer = buffer[(int)n..];
                continue;
            }

            var errno = n < 0 ? LibC.LastError : LibC.EAGAIN;
            if (errno == LibC.EINTR)
            {
                continue;
            }

            if (errno != LibC.EAGAIN)
            {
                throw Error("write", errno);
            }

            if (timeoutMilliseconds >= 0 && waited >= timeoutMilliseconds)
            {
                throw new TimeoutException($"{_name}: output queue stayed full for {timeoutMilliseconds} ms");
            }

            WaitFor(LibC.POLLOUT, PollSliceMilliseconds);
            waited += PollSliceMilliseconds;
        }
    }

    private unsafe short WaitFor(short events, int timeoutMilliseconds)
    {
        var fd = new LibC.PollFd { fd = _handle.Fd, events = events };
        var rc = LibC.Poll(&fd, 1, timeoutMilliseconds);
        if (rc < 0)
        {
            var errno = LibC.LastError;
            return errno == LibC.EINTR ? (short)0 : throw Error("poll", errno);
        }

        return fd.revents;
    }

    /// <summary>
    /// Refuses to use the descriptor number once the handle is closed: Linux hands the lowest free number to the next
    /// open, so a read, write or ioctl through a stale number would act on whatever file got it. Checked on every pass
    /// of the wait loops, so a port closed while a read waits ends that read within one poll slice.
    /// </summary>
    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_handle.IsClosed, this);

    private IOException Error(string call, int errno) =>
        new($"{_name}: {call} failed: {LibC.Describe(errno)} (errno {errno})");

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsHandle)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}

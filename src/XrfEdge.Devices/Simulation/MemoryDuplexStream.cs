using System.Threading.Channels;
using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Simulation;

/// <summary>
/// One end of an in-memory full-duplex byte link (a null-modem cable in memory): what one end writes
/// the other reads, in order, in the chunks written. For tests, benchmarks and in-process simulation;
/// <see cref="Disconnect"/> makes both ends fail like a pulled cable.
/// </summary>
public sealed class MemoryDuplexStream : Stream, IDiscardableInput
{
    private readonly Channel<byte[]> _incoming;
    private readonly Channel<byte[]> _outgoing;
    private readonly SharedState _shared;
    private ReadOnlyMemory<byte> _pending;

    private MemoryDuplexStream(Channel<byte[]> incoming, Channel<byte[]> outgoing, SharedState shared)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        _shared = shared;
    }

    /// <summary>Creates the two connected ends.</summary>
    public static (MemoryDuplexStream Host, MemoryDuplexStream Device) CreatePair()
    {
        var toDevice = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        var toHost = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        var shared = new SharedState();
        return (new MemoryDuplexStream(toHost, toDevice, shared), new MemoryDuplexStream(toDevice, toHost, shared));
    }

    /// <summary>Breaks the link: pending and later reads and writes on both ends throw <see cref="IOException"/>.</summary>
    public void Disconnect()
    {
        _shared.Disconnected = true;
        _incoming.Writer.TryComplete(new IOException("memory link disconnected"));
        _outgoing.Writer.TryComplete(new IOException("memory link disconnected"));
    }

    /// <inheritdoc />
    public void DiscardInput()
    {
        _pending = ReadOnlyMemory<byte>.Empty;
        while (_incoming.Reader.TryRead(out _))
        {
        }
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pending.IsEmpty)
        {
            try
            {
                _pending = await _incoming.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException e)
            {
                throw new IOException("memory link disconnected", e);
            }
        }

        var n = Math.Min(buffer.Length, _pending.Length);
        _pending[..n].CopyTo(buffer);
        _pending = _pending[n..];
        return n;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_shared.Disconnected || !_outgoing.Writer.TryWrite(buffer.ToArray()))
        {
            throw new IOException("memory link disconnected");
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    private sealed class SharedState
    {
        public volatile bool Disconnected;
    }
}

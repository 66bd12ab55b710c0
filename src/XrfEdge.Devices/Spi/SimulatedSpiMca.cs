using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XrfEdge.Devices.Simulation;
using XrfEdge.Spectra;

namespace XrfEdge.Devices.Spi;

/// <summary>
/// A simulated SPI MCA that sits below the ioctl seam: it reads the <c>spi_ioc_transfer</c> structs of each
/// SPI_IOC_MESSAGE exactly as the kernel would (pointers, lengths), refuses messages above spidev's 4096-byte
/// bufsiz with EMSGSIZE, and plays the device side of docs/spi-mca-protocol.md. It is also its own
/// data-ready line. Faults: NACK busy on the first command, "not ready" polls, one corrupted payload chunk.
/// </summary>
public sealed class SimulatedSpiMca : ISpiIoctl, IDataReadyLine
{
    private readonly Func<SimulatedSpectrumRequest, RawSpectrum> _source;
    private readonly TimeProvider _time;
    private readonly int _channels;
    private readonly byte _countWidth;
    private byte[]? _image;
    private byte[] _response = [];
    private int _notReadyLeft;
    private bool _acquiring;
    private TimeSpan _live;
    private TimeSpan _preset;
    private long _lastTick;
    private long _measurement = -1;
    private long[]? _full;
    private uint _sequence;
    private bool _busyPending;
    private bool _corruptPending;

    /// <summary>Creates the device.</summary>
    /// <param name="channels">Channels, 256–16384.</param>
    /// <param name="countWidth">Bytes per count, 2–4.</param>
    /// <param name="spectrumSource">The spectrum of a full preset.</param>
    /// <param name="timeProvider">Clock for live/real time.</param>
    public SimulatedSpiMca(int channels, byte countWidth, Func<SimulatedSpectrumRequest, RawSpectrum> spectrumSource, TimeProvider timeProvider)
    {
        _channels = channels;
        _countWidth = countWidth;
        _source = spectrumSource;
        _time = timeProvider;
        _lastTick = _time.GetTimestamp();
    }

    /// <summary>Answer the first command with NACK busy.</summary>
    public bool BusyOnFirstCommand { init => _busyPending = value; }

    /// <summary>Corrupt one byte of the first payload chunk read (the client must detect it by CRC-32 and re-read).</summary>
    public bool CorruptFirstPayloadChunk { init => _corruptPending = value; }

    /// <summary>Response polls answered "not ready" (0x00) after each command.</summary>
    public int NotReadyPolls { get; init; }

    /// <summary>Largest single SPI message seen, bytes.</summary>
    public int LargestMessageBytes { get; private set; }

    /// <summary>Mode, bits per word and clock written through the ioctls.</summary>
    public (byte Mode, byte BitsPerWord, uint SpeedHz) Settings { get; private set; }

    /// <inheritdoc />
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => Task.FromResult(_response.Length > 0);

    /// <inheritdoc />
    public unsafe int Ioctl(ulong request, nint argument)
    {
        switch (request)
        {
            case SpiIoctlNumbers.WriteMode:
                Settings = Settings with { Mode = *(byte*)argument };
                return 0;
            case SpiIoctlNumbers.WriteBitsPerWord:
                Settings = Settings with { BitsPerWord = *(byte*)argument };
                return 0;
            case SpiIoctlNumbers.WriteMaxSpeedHz:
                Settings = Settings with { SpeedHz = *(uint*)argument };
                return 0;
            default:
                break;
        }

        var n = SpiIoctlNumbers.TransfersIn(request);
        if (n == 0)
        {
            throw new IOException($"simulated spidev: ioctl 0x{request:X8}: Inappropriate ioctl for device");
        }

        var transfers = new ReadOnlySpan<SpiIocTransfer>((void*)argument, n);
        long total = 0;
        foreach (var t in transfers)
        {
            total += t.Length;
        }

        if (total > SpiIoctlNumbers.DefaultBufferSize)
        {
            throw new IOException($"simulated spidev: ioctl SPI_IOC_MESSAGE: Message too long ({total} bytes > bufsiz 4096)");
        }

        LargestMessageBytes = Math.Max(LargestMessageBytes, (int)total);
        foreach (var t in transfers)
        {
            var tx = t.TxBuffer == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>((void*)(nint)t.TxBuffer, (int)t.Length);
            var rx = t.RxBuffer == 0 ? Span<byte>.Empty : new Span<byte>((void*)(nint)t.RxBuffer, (int)t.Length);
            Exchange(tx, rx);
        }

        return (int)total;
    }

    private void Exchange(ReadOnlySpan<byte> tx, Span<byte> rx)
    {
        if (!tx.IsEmpty && tx[0] == SpiCommand.Marker)
        {
            rx.Clear();
            _response = Process(tx);
            _notReadyLeft = NotReadyPolls;
            return;
        }

        if (_notReadyLeft > 0 || _response.Length == 0)
        {
            _notReadyLeft--;
            rx.Clear();
            return;
        }

        rx.Clear();
        _response.AsSpan(0, Math.Min(_response.Length, rx.Length)).CopyTo(rx);
        _response = [];
    }

    private byte[] Process(ReadOnlySpan<byte> tx)
    {
        Advance();
        if (SpiCommand.TryDecode(tx) is not { } command)
        {
            return NackBytes(SpiNackCode.BadCommandCrc);
        }

        if (_busyPending)
        {
            _busyPending = false;
            return NackBytes(SpiNackCode.Busy);
        }

        switch (command.Opcode)
        {
            case SpiOpcode.Clear:
                _live = TimeSpan.Zero;
                _full = null;
                return [SpiMcaClient.Ack, (byte)command.Opcode];
            case SpiOpcode.Start:
                _acquiring = true;
                _preset = TimeSpan.FromMilliseconds(command.Offset);
                return [SpiMcaClient.Ack, (byte)command.Opcode];
            case SpiOpcode.Stop:
                _acquiring = false;
                return [SpiMcaClient.Ack, (byte)command.Opcode];
            case SpiOpcode.Snapshot:
                _image = BuildImage();
                if ((command.Flags & 1) != 0)
                {
                    _live = TimeSpan.Zero;
                    _full = null;
                }

                return [SpiMcaClient.Ack, .. _image.AsSpan(0, SpiFrameHeader.Length)];
            case SpiOpcode.Read:
                if (_image is null)
                {
                    return NackBytes(SpiNackCode.NoSnapshot);
                }

                if (command.Length is 0 or > SpiCommand.MaxReadLength || command.Offset + command.Length > _image.Length)
                {
                    return NackBytes(SpiNackCode.OutOfRange);
                }

                var data = _image.AsSpan((int)command.Offset, command.Length).ToArray();
                if (_corruptPending && command.Offset >= SpiFrameHeader.Length)
                {
                    _corruptPending = false;
                    data[data.Length / 2] ^= 0xFF;
                }

                return [SpiMcaClient.Ack, .. data];
            default:
                return NackBytes(SpiNackCode.UnknownOpcode);
        }
    }

    private static byte[] NackBytes(SpiNackCode code) => [SpiMcaClient.Nack, (byte)code];

    private void Advance()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastTick, now);
        _lastTick = now;
        if (!_acquiring)
        {
            return;
        }

        _live += elapsed;
        if (_preset > TimeSpan.Zero && _live >= _preset)
        {
            _live = _preset;
            _acquiring = false;
        }
    }

    private byte[] BuildImage()
    {
        var duration = _preset > TimeSpan.Zero ? _preset : TimeSpan.FromSeconds(10);
        if (_full is null)
        {
            _measurement++;
            _full = EnergyResampler.Resample(_source(new SimulatedSpectrumRequest(_measurement, _channels, duration)), ExampleSpectrumSource.CalibrationFor(_channels), _channels);
        }

        var fraction = _live / duration;
        var max = (1L << (8 * _countWidth)) - 1;
        var payload = new byte[_channels * _countWidth];
        long total = 0;
        var saturated = false;
        for (var channel = 0; channel < _channels; channel++)
        {
            var value = (long)Math.Floor((channel < _full.Length ? _full[channel] : 0) * fraction);
            // At the maximum counts as clipped, as the host judges it (docs/spi-mca-protocol.md §5).
            saturated |= value >= max;
            value = Math.Min(value, max);
            total += value;
            for (var b = 0; b < _countWidth; b++)
            {
                payload[(channel * _countWidth) + b] = (byte)(value >> (8 * b));
            }
        }

        var header = new SpiFrameHeader
        {
            CountWidth = _countWidth,
            ChannelCount = _channels,
            Sequence = ++_sequence,
            LiveTime = TimeSpan.FromMilliseconds(Math.Floor(_live.TotalMilliseconds)),
            RealTime = TimeSpan.FromMilliseconds(Math.Floor(_live.TotalMilliseconds)),
            SlowCount = (uint)Math.Min(uint.MaxValue, total),
            FastCount = (uint)Math.Min(uint.MaxValue, total * 104 / 100),
            Flags = (ushort)((_acquiring ? 1 : 0) | (_preset > TimeSpan.Zero && _live >= _preset ? 2 : 0) | (saturated ? 4 : 0)),
            PayloadCrc32 = SpiCrc.Crc32(payload),
        };
        return [.. header.Encode(), .. payload];
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    /// <summary>Size check: the struct must match the kernel's 32 bytes.</summary>
    internal static int TransferStructSize => Marshal.SizeOf<SpiIocTransfer>();

    /// <summary>Reads a u32 (for tests).</summary>
    internal static uint ReadU32(ReadOnlySpan<byte> d) => BinaryPrimitives.ReadUInt32LittleEndian(d);
}

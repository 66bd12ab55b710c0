using XrfEdge.Devices.Spi;

namespace XrfEdge.Devices.Tests.Support;

/// <summary>
/// An SPI MCA below the ioctl seam that answers each SNAPSHOT with the next of a fixed list of snapshot images
/// (header and counts as given, CRCs filled in), so a test can state exactly what a hostile or reset MCA reports
/// (docs/spi-mca-protocol.md §5). CLEAR, START and STOP are acknowledged and recorded; the last image repeats.
/// </summary>
internal sealed class ReplaySpiMca(params (SpiFrameHeader Header, long[] Counts)[] snapshots) : ISpiIoctl
{
    private byte[] _response = [];
    private byte[]? _image;
    private int _next;

    /// <summary>Opcodes received, in order.</summary>
    public List<SpiOpcode> Commands { get; } = [];

    /// <summary>The preset of the last START, ms (its offset field, §3).</summary>
    public uint? StartPresetMilliseconds { get; private set; }

    public unsafe int Ioctl(ulong request, nint argument)
    {
        if (SpiIoctlNumbers.TransfersIn(request) != 1)
        {
            return 0; // mode, bits per word and clock
        }

        var t = *(SpiIocTransfer*)argument;
        var tx = t.TxBuffer == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>((void*)(nint)t.TxBuffer, (int)t.Length);
        var rx = new Span<byte>((void*)(nint)t.RxBuffer, (int)t.Length);
        rx.Clear();
        if (!tx.IsEmpty && tx[0] == SpiCommand.Marker)
        {
            _response = Process(SpiCommand.TryDecode(tx) ?? throw new InvalidOperationException("the client sent a bad command"));
        }
        else
        {
            _response.AsSpan(0, Math.Min(_response.Length, rx.Length)).CopyTo(rx);
            _response = [];
        }

        return (int)t.Length;
    }

    public void Dispose()
    {
    }

    private byte[] Process(SpiCommand command)
    {
        Commands.Add(command.Opcode);
        switch (command.Opcode)
        {
            case SpiOpcode.Snapshot:
                var (header, counts) = snapshots[Math.Min(_next++, snapshots.Length - 1)];
                var payload = new byte[counts.Length * header.CountWidth];
                for (var channel = 0; channel < counts.Length; channel++)
                {
                    for (var b = 0; b < header.CountWidth; b++)
                    {
                        payload[(channel * header.CountWidth) + b] = (byte)(counts[channel] >> (8 * b));
                    }
                }

                _image = [.. (header with { ChannelCount = counts.Length, PayloadCrc32 = SpiCrc.Crc32(payload) }).Encode(), .. payload];
                return [SpiMcaClient.Ack, .. _image.AsSpan(0, SpiFrameHeader.Length)];
            case SpiOpcode.Read:
                return [SpiMcaClient.Ack, .. (_image ?? throw new InvalidOperationException("READ before SNAPSHOT")).AsSpan((int)command.Offset, command.Length)];
            case SpiOpcode.Start:
                StartPresetMilliseconds = command.Offset;
                return [SpiMcaClient.Ack, (byte)command.Opcode];
            default:
                return [SpiMcaClient.Ack, (byte)command.Opcode];
        }
    }
}

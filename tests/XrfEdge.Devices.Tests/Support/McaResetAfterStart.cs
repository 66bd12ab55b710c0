using XrfEdge.Devices.Spi;

namespace XrfEdge.Devices.Tests.Support;

/// <summary>
/// Passes every ioctl to a simulated SPI MCA; once the client has read START's ACK it makes the MCA lose everything
/// (CLEAR, then STOP), as a brown-out would. The reset comes after START's response transfer, not between its command
/// and response transfers: there STOP's ACK would replace START's, which the client refuses as a wrong opcode echo
/// (docs/spi-mca-protocol.md §3). Shared (linked) with the service's SPI source tests.
/// </summary>
/// <param name="mca">The simulated MCA.</param>
/// <param name="once">Reset after the first START only; otherwise after every START.</param>
/// <param name="ownsMca">Dispose the MCA with this.</param>
internal sealed class McaResetAfterStart(SimulatedSpiMca mca, bool once, bool ownsMca) : ISpiIoctl
{
    private bool _startSent;

    /// <summary>How many times the MCA was reset.</summary>
    public int Resets { get; private set; }

    public unsafe int Ioctl(ulong request, nint argument)
    {
        var rc = mca.Ioctl(request, argument);
        if (!(once && Resets > 0) && SpiIoctlNumbers.TransfersIn(request) == 1)
        {
            var t = *(SpiIocTransfer*)argument;
            if (t.TxBuffer != 0 && t.Length == SpiCommand.Size
                && SpiCommand.TryDecode(new ReadOnlySpan<byte>((void*)(nint)t.TxBuffer, (int)t.Length)) is { } command)
            {
                _startSent = command.Opcode == SpiOpcode.Start;
            }
            else if (_startSent && t.RxBuffer != 0 && *(byte*)(nint)t.RxBuffer == SpiMcaClient.Ack)
            {
                _startSent = false;
                Resets++;
                Send(SpiOpcode.Clear);
                Send(SpiOpcode.Stop);
            }
        }

        return rc;
    }

    public void Dispose()
    {
        if (ownsMca)
        {
            mca.Dispose();
        }
    }

    private unsafe void Send(SpiOpcode opcode)
    {
        var tx = new SpiCommand(opcode).Encode();
        var rx = new byte[SpiCommand.Size];
        fixed (byte* pt = tx)
        fixed (byte* pr = rx)
        {
            var transfer = new SpiIocTransfer { TxBuffer = (ulong)(nint)pt, RxBuffer = (ulong)(nint)pr, Length = SpiCommand.Size };
            mca.Ioctl(SpiIoctlNumbers.Message(1), (nint)(&transfer));
        }
    }
}

using XrfEdge.Devices.Spi;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Spi;

/// <summary>
/// The ACK of START, STOP and CLEAR carries the command's opcode as its one data byte (docs/spi-mca-protocol.md §3).
/// An ACK echoing another opcode answers some other command — a stale response, or a slave that lost track of the
/// exchange — so the command may not have run. Review (branch devices-gaps2): the client accepted any echo.
/// </summary>
public sealed class SpiOpcodeEchoTests
{
    [Theory]
    [InlineData(SpiOpcode.Start, 0x05)] // a stale CLEAR acknowledgement
    [InlineData(SpiOpcode.Stop, 0x03)] // a stale START acknowledgement
    [InlineData(SpiOpcode.Clear, 0xA7)] // not an opcode at all: a desynchronised slave
    public async Task CommandAsync_AckEchoesAnotherOpcodeEveryTime_ThrowsNamingExpectedAndReceived(SpiOpcode opcode, byte echo)
    {
        var fake = new FakeEchoSpiMca((_, _) => echo);
        using var spi = new SpiDevice(fake, 0, 8_000_000);
        var profile = TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(2));
        var client = new SpiMcaClient("/dev/spidev0.0", spi, profile, TimeProvider.System);

        var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.CommandAsync(new SpiCommand(opcode), 0, CancellationToken.None));

        Assert.Equal(opcode, e.ExpectedOpcode);
        Assert.Equal(echo, e.ReceivedOpcode);
        Assert.Null(e.NackCode);
        Assert.Contains("/dev/spidev0.0", e.Message, StringComparison.Ordinal);
        Assert.Contains($"0x{(byte)opcode:X2} ({opcode})", e.Message, StringComparison.Ordinal);
        Assert.Contains($"0x{echo:X2}", e.Message, StringComparison.Ordinal);

        // The same bounded retry as a NACK busy or bad CRC: the profile's MaxAttempts (4 in TestProfiles.Fast) commands.
        Assert.Equal(Enumerable.Repeat(opcode, profile.MaxAttempts), fake.Commands);
        Assert.Equal(profile.MaxAttempts - 1, client.RetryCount);
    }

    [Theory]
    [InlineData(SpiOpcode.Start)]
    [InlineData(SpiOpcode.Stop)]
    [InlineData(SpiOpcode.Clear)]
    public async Task CommandAsync_OneStaleEchoThenTheRightOne_RetriedOnceAndSucceeds(SpiOpcode opcode)
    {
        // First answer: the echo of SNAPSHOT (0x01), left over from an earlier exchange; then the slave answers properly.
        var fake = new FakeEchoSpiMca((command, count) => count == 1 ? (byte)SpiOpcode.Snapshot : (byte)command.Opcode);
        using var spi = new SpiDevice(fake, 0, 8_000_000);
        var client = new SpiMcaClient("/dev/spidev0.0", spi, TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(2)), TimeProvider.System);

        await client.CommandAsync(new SpiCommand(opcode, 0, opcode == SpiOpcode.Start ? 100u : 0u), 0, CancellationToken.None);

        Assert.Equal([opcode, opcode], fake.Commands);
        Assert.Equal(1, client.RetryCount);
    }

    [Fact]
    public async Task CommandAsync_RightEcho_NoRetry()
    {
        var fake = new FakeEchoSpiMca((command, _) => (byte)command.Opcode);
        using var spi = new SpiDevice(fake, 0, 8_000_000);
        var client = new SpiMcaClient("/dev/spidev0.0", spi, TestProfiles.Fast(1024), TimeProvider.System);

        await client.CommandAsync(new SpiCommand(SpiOpcode.Clear), 0, CancellationToken.None);

        Assert.Equal([SpiOpcode.Clear], fake.Commands);
        Assert.Equal(0, client.RetryCount);
    }

    /// <summary>
    /// An SPI MCA below the ioctl seam that ACKs every command with one data byte chosen by <paramref name="echo"/>
    /// (the command and how many commands it has received, 1-based).
    /// </summary>
    private sealed class FakeEchoSpiMca(Func<SpiCommand, int, byte> echo) : ISpiIoctl
    {
        private byte[] _response = [];

        public List<SpiOpcode> Commands { get; } = [];

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
                var command = SpiCommand.TryDecode(tx) ?? throw new InvalidOperationException("the client sent a bad command");
                Commands.Add(command.Opcode);
                _response = [SpiMcaClient.Ack, echo(command, Commands.Count)];
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
    }
}

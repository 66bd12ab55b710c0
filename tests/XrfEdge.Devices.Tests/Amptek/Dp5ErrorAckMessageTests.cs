using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Amptek;

/// <summary>
/// Error ACKs as an operator reads them: the session opens a real pty slave through <see cref="SerialPort"/> (termios, as
/// /dev/ttyUSB0), and a scripted DP5 on the master end answers one request with an error ACK (guide rev A7 Table 3,
/// reference note mca-and-files.md §1.7). Review 2026-11-24: the message said "DP5 rejected DP5 20/04 (10 data bytes)",
/// naming neither the port nor the command, and a bad-parameter ACK may carry no echo ("LEN may be 0", §1.7).
/// </summary>
public sealed class Dp5ErrorAckMessageTests
{
    /// <summary>
    /// Answers requests on <paramref name="pty"/>'s master: status 01/01 with a plain DP5 status, <paramref name="reject"/>
    /// with <paramref name="ack"/> and no data, every other request with ACK OK.
    /// </summary>
    private static Task ServeAsync(PseudoTerminal pty, Func<Dp5Packet, bool> reject, Dp5AckCode ack, CancellationToken ct) => Task.Run(async () =>
    {
        var decoder = new Dp5PacketDecoder();
        var packets = new List<Dp5Packet>();
        var buffer = new byte[1024];
        while (!ct.IsCancellationRequested)
        {
            var n = await pty.MasterStream.ReadAsync(buffer, ct);
            decoder.Feed(buffer.AsSpan(0, n), packets);
            foreach (var request in packets)
            {
                var reply = request switch
                {
                    _ when reject(request) => new Dp5Packet(0xFF, (byte)ack),
                    { Pid1: 0x01, Pid2: 0x01 } => new Dp5Packet(0x80, 0x01, new Dp5Status { FirmwareVersion = new Version(6, 8), Configured = true }.Encode()),
                    _ => new Dp5Packet(0xFF, (byte)Dp5AckCode.Ok),
                };
                await pty.MasterStream.WriteAsync(reply.Encode(), ct);
            }

            packets.Clear();
        }
    }, ct);

    private static Dp5Session SessionOn(PseudoTerminal pty) =>
        new(pty.SlavePath, _ =>
        {
            var port = new SerialPort(pty.SlavePath);
            port.Open();
            return ValueTask.FromResult(port.BaseStream);
        }, TestProfiles.Fast(replyTimeout: TimeSpan.FromSeconds(2)), TimeProvider.System);

    [Fact]
    public async Task MeasureAsync_BadParameterAckWithoutEcho_MessageNamesPortAndTheCommandSent()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var pty = PseudoTerminal.Create();
        var serving = ServeAsync(pty, r => r is { Pid1: 0x20, Pid2: 0x04 }, Dp5AckCode.BadParameter, cts.Token);
        await using var session = SessionOn(pty);

        var e = await Assert.ThrowsAsync<Dp5ProtocolException>(() => session.MeasureAsync(TimeSpan.FromSeconds(1), cts.Token));

        Assert.Equal(Dp5AckCode.BadParameter, e.AckCode);
        Assert.Null(e.EchoedCommand);
        Assert.Contains(pty.SlavePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("PRET=1.0;", e.Message, StringComparison.Ordinal); // MeasureAsync's PRET, one decimal (PRET's 0.1 s step)
        Assert.Contains("bad parameter", e.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }

    [Fact]
    public async Task ReadSpectrumAsync_FpgaErrorAck_MessageNamesPortAndTheRequest()
    {
        // ACK 0x08 "FPGA not initialised" is what a DP5 returns to a spectrum request (guide rev A7 Table 3).
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var pty = PseudoTerminal.Create();
        var serving = ServeAsync(pty, r => r is { Pid1: 0x02 }, Dp5AckCode.FpgaError, cts.Token);
        await using var session = SessionOn(pty);

        var e = await Assert.ThrowsAsync<Dp5ProtocolException>(() => session.ReadSpectrumAsync(clear: false, cts.Token));

        Assert.Equal(Dp5AckCode.FpgaError, e.AckCode);
        Assert.Contains(pty.SlavePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("spectrum + status request", e.Message, StringComparison.Ordinal);
        Assert.Contains("FPGA", e.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
    }
}

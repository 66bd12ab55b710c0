using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Simulation;

/// <summary>End to end over a real pty: the simulator's own pty, symlinked, opened through the termios serial port.</summary>
public sealed class SimulatedMcaHostTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-mcasim-").FullName;

    private async Task<(SimulatedMcaHost Host, SimulatedDp5 Device, Task Running, string Link)> StartAsync(SimulatedDp5Options options, CancellationToken ct)
    {
        var link = Path.Combine(_dir, "ttyDP5");
        var device = new SimulatedDp5(options, new ExampleSpectrumSource(options.Seed).Generate, TimeProvider.System);
        var host = new SimulatedMcaHost(device, link, TimeProvider.System) { ReconnectPause = TimeSpan.FromMilliseconds(100) };
        var running = Task.Run(() => host.RunAsync(ct), ct);
        await host.Ready.WaitAsync(ct);
        return (host, device, running, link);
    }

    // These tests run on the real clock over a real pty while other test assemblies load both cores, so replies
    // get 1 s (4× the in-memory tests' 250 ms); the slow reply (1.5 s) is late for one attempt and answers the retry queued behind it.
    private static readonly TimeSpan PtyReplyTimeout = TimeSpan.FromSeconds(1);

    private static Dp5Session SessionOn(string link, int channels = 1024) => new(link, _ =>
    {
        var port = new SerialPort(link, 115200);
        port.Open();
        return ValueTask.FromResult(port.BaseStream);
    }, TestProfiles.Fast(channels) with { ReplyTimeout = PtyReplyTimeout }, TimeProvider.System);

    [Fact]
    public async Task Measure_OverPty_FullMeasurementWith8192Channels()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (_, device, running, link) = await StartAsync(new SimulatedDp5Options(), cts.Token);
        await using (var session = SessionOn(link, 8192))
        {
            var status = await session.ConnectAsync(cts.Token);
            Assert.True(status.FirstStatusSinceReboot);
            await session.ApplyProfileAsync(cts.Token);
            Assert.Equal("8192", device.Configuration["MCAC"]);
            var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(8192, spectrum.Counts.Length);
            Assert.True(spectrum.TotalCounts > 0);
            Assert.Equal(TimeSpan.FromSeconds(0.2), spectrum.LiveTime);
        }

        await cts.CancelAsync();
        await running;
        Assert.False(File.Exists(link), "the host removes its symlink on the way out");
    }

    [Theory]
    [InlineData(SimulatedFault.Garbage)]
    [InlineData(SimulatedFault.DroppedBytes)]
    [InlineData(SimulatedFault.BadChecksum)]
    [InlineData(SimulatedFault.SlowReplies)]
    [InlineData(SimulatedFault.ErrorAcks)]
    public async Task Measure_OverPtyWithFault_Recovers(SimulatedFault fault)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var options = new SimulatedDp5Options { Fault = fault, FaultEvery = 3, SlowReplyDelay = PtyReplyTimeout * 1.5 };
        var (_, _, _, link) = await StartAsync(options, cts.Token);
        await using var session = SessionOn(link);
        await session.ConnectAsync(cts.Token);
        await session.ApplyProfileAsync(cts.Token);
        var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
        Assert.Equal(1024, spectrum.Counts.Length);
        Assert.True(spectrum.TotalCounts > 0);
        Assert.True(session.RetryCount > 0 || session.Decoder.DiscardedByteCount > 0, $"fault {fault} was never seen");
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Measure_PtyDisconnectedMidPacket_ReconnectsToNewPtyAndCompletes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var options = new SimulatedDp5Options { Fault = SimulatedFault.Disconnect, FaultEvery = 5 };
        var (host, _, _, link) = await StartAsync(options, cts.Token);
        await using var session = SessionOn(link);
        await session.ConnectAsync(cts.Token);
        await session.ApplyProfileAsync(cts.Token);
        var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
        Assert.True(spectrum.TotalCounts > 0);
        // The host closed the first pty (DisconnectCount) before the measurement finished, so the session completed
        // on a pty opened after it. Its /dev/pts name is no evidence either way: the kernel hands a freed index out
        // again, and on a quiet machine the new pty often gets the old name.
        Assert.True(host.DisconnectCount > 0);
        Assert.True(session.ReconnectCount > 0);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task RunAsync_LinkPathIsRegularFile_Refused()
    {
        var path = Path.Combine(_dir, "occupied");
        await File.WriteAllTextAsync(path, "keep me");
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        var host = new SimulatedMcaHost(device, path, TimeProvider.System);
        await Assert.ThrowsAsync<IOException>(() => host.RunAsync(CancellationToken.None));
        Assert.Equal("keep me", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task RunAsync_LinkPathIsDirectory_RefusedWithoutLeavingATemporaryLink()
    {
        // The link is made at PATH.tmp-PID and renamed onto PATH; onto a directory the rename failed and left that link behind.
        var path = Directory.CreateDirectory(Path.Combine(_dir, "a-directory")).FullName;
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        var host = new SimulatedMcaHost(device, path, TimeProvider.System);
        var e = await Assert.ThrowsAsync<IOException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("is a directory", e.Message, StringComparison.Ordinal);
        Assert.Equal([path], Directory.GetFileSystemEntries(_dir));
        Assert.Empty(Directory.GetFileSystemEntries(path));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

using System.Text;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Tests.Support;
using XrfEdge.Spectra;

namespace XrfEdge.Devices.Tests.Amptek;

/// <summary>
/// Review of the DP5 session (branch devices-gaps): a clipped 24-bit channel, a measurement that stopped short of its
/// preset without any restart flag, and a garbled read-back reply. Each test failed on the code before its fix.
/// </summary>
public sealed class Dp5SessionReviewTests
{
    /// <summary>
    /// Serves <paramref name="device"/> on the device end of a memory link; <paramref name="rewrite"/> may replace a reply
    /// (the request and the simulator's own reply in, the bytes to send out).
    /// </summary>
    private static Dp5Session SessionOn(SimulatedDp5 device, CancellationToken ct, Func<Dp5Packet, Dp5Packet?, Dp5Packet?>? rewrite = null)
    {
        // Generous reply time-out: these tests are about what comes back, not about time-outs (a loaded CI machine).
        var profile = TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(5));
        return new Dp5Session("memory", connectToken =>
        {
            var (host, dev) = MemoryDuplexStream.CreatePair();
            _ = Task.Run(
                async () =>
                {
                    var decoder = new Dp5PacketDecoder();
                    var requests = new List<Dp5Packet>();
                    var buffer = new byte[4096];
                    while (!ct.IsCancellationRequested)
                    {
                        var n = await dev.ReadAsync(buffer, ct);
                        decoder.Feed(buffer.AsSpan(0, n), requests);
                        foreach (var request in requests)
                        {
                            var reply = device.Handle(request);
                            reply = rewrite is null ? reply : rewrite(request, reply);
                            if (reply is not null)
                            {
                                await dev.WriteAsync(reply.Encode(), ct);
                            }
                        }

                        requests.Clear();
                    }
                },
                ct);
            return ValueTask.FromResult<Stream>(host);
        }, profile, TimeProvider.System);
    }

    [Fact]
    public async Task MeasureAsync_ChannelAtTwentyFourBitMaximum_ThrowsSaturatedNamingTheChannel()
    {
        // The example spectrum scaled by 10^6: its strongest peaks exceed 16,777,215, the largest count a DP5 channel holds
        // (3 bytes per channel, guide rev A7 §4.2.2); the simulator clips them there as Dp5Spectrum.Encode does.
        var example = new ExampleSpectrumSource(1);
        var device = new SimulatedDp5(new SimulatedDp5Options(), r => example.Generate(r) is var s ? s with { Counts = Array.ConvertAll(s.Counts, c => c * 1_000_000) } : null!, TimeProvider.System);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var session = SessionOn(device, cts.Token);
        await session.ConnectAsync(cts.Token);
        await session.ApplyProfileAsync(cts.Token);

        var e = await Assert.ThrowsAsync<SpectrumSaturatedException>(() => session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token));

        Assert.Equal(Dp5Spectrum.MaxChannelCount, e.MaximumCount);
        Assert.True(e.SaturatedChannelCount > 0);
        Assert.NotNull(e.FirstSaturatedChannel);
        Assert.Contains("DP5 on memory saturated", e.Message, StringComparison.Ordinal);
        Assert.Contains($"channel {e.FirstSaturatedChannel}", e.Message, StringComparison.Ordinal);
        Assert.Contains("16777215", e.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task MeasureAsync_ChannelOneBelowTwentyFourBitMaximum_Accepted()
    {
        // Every channel at 16,777,214 = 2^24 − 2 (the simulator scales the source by accumulated/preset time: 0.2 s of 0.2 s).
        var device = new SimulatedDp5(new SimulatedDp5Options(), r => new RawSpectrum { Id = "flat", Counts = Enumerable.Repeat(16_777_214L, r.ChannelCount).ToArray(), Calibration = ExampleSpectrumSource.CalibrationFor(r.ChannelCount) }, TimeProvider.System);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var session = SessionOn(device, cts.Token);
        await session.ConnectAsync(cts.Token);
        await session.ApplyProfileAsync(cts.Token);

        var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

        Assert.Equal(1024, spectrum.Counts.Length);
        Assert.True(spectrum.Counts.Max() < Dp5Spectrum.MaxChannelCount);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task MeasureAsync_OldFirmwarePowerCycledWhileCounting_ThrowsStoppedShortAndNextMeasurementReapplies()
    {
        // FW 6.04: before 6.05 the DP5 never sets b36 D5 "first status since reboot" (guide rev A7 §4.2.1), and on RS-232
        // with its own supply the link stays up. The profile's MCAC 1024 is also the power-on default, so no channel-count
        // mismatch either: only the accumulation time (about 0 s of a 5 s preset) shows that this is not the measurement.
        var device = new SimulatedDp5(new SimulatedDp5Options { FirmwareVersion = new Version(6, 4) }, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var session = SessionOn(device, cts.Token);
        await session.ConnectAsync(cts.Token);
        await session.ApplyProfileAsync(cts.Token);

        var measuring = session.MeasureAsync(TimeSpan.FromSeconds(5), cts.Token);
        while (!device.McaEnabled)
        {
            Assert.False(measuring.IsCompleted, "the measurement ended before the MCA was seen enabled");
            await Task.Delay(5, cts.Token);
        }

        device.PowerCycle();
        var e = await Assert.ThrowsAsync<Dp5ProtocolException>(() => measuring);

        Assert.Contains("memory", e.Message, StringComparison.Ordinal);
        Assert.Contains("stopped before its preset", e.Message, StringComparison.Ordinal);
        Assert.Contains("of 5 s", e.Message, StringComparison.Ordinal);
        Assert.True(session.ProfileReapplyPending, "the device may have lost the profile: the next measurement must re-apply it");
        Assert.Equal(0, session.DeviceRestartCount); // no flag on this firmware

        var next = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
        Assert.Equal(TimeSpan.FromSeconds(0.2), next.LiveTime);
        Assert.Equal(1, session.ProfileReapplyCount);
        Assert.Equal("20.0", device.Configuration["GAIN"]); // TestProfiles.Fast's GAIN, back after the re-application
        await cts.CancelAsync();
    }

    [Theory]
    [InlineData(4.9, false, false, Dp5DeviceType.Dp5, false, 8, true)] // PRET 5.0 s less one 0.1 s PRET step: accepted
    [InlineData(4.899, false, false, Dp5DeviceType.Dp5, false, 8, false)] // 1 ms more short: refused
    [InlineData(1.0, true, false, Dp5DeviceType.Dp5, false, 8, true)] // PREC reached (b35 D4)
    [InlineData(1.0, false, true, Dp5DeviceType.Px5, false, 8, true)] // PRER reached (b35 D7)
    [InlineData(1.0, false, false, Dp5DeviceType.Mca8000D, true, 8, true)] // MCA8000D FW 6.08: b35 D6 = preset live time reached
    [InlineData(1.0, false, false, Dp5DeviceType.Mca8000D, true, 6, false)] // MCA8000D FW 6.06: D6 is "auto fast threshold locked" (SDK: live time from 6.07)
    [InlineData(1.0, false, false, Dp5DeviceType.Dp5, true, 8, false)] // DP5: b35 D6 is only "auto fast threshold locked"
    public void EndedByPreset_FlagsAndAccumulationTime_AsTheStatusTableSays(double accumulationSeconds, bool presetCount, bool presetRealTime, Dp5DeviceType type, bool d6, int firmwareMinor, bool expected)
    {
        // Flags from the status table (reference note mca-and-files.md §1.6); PRET 5.0 s; firmware 6.<firmwareMinor>.
        var status = new Dp5Status
        {
            AccumulationTime = TimeSpan.FromSeconds(accumulationSeconds),
            PresetCountReached = presetCount,
            PresetRealTimeReached = presetRealTime,
            AutoFastThresholdLocked = d6,
            DeviceType = type,
            FirmwareVersion = new Version(6, firmwareMinor),
        };
        Assert.Equal(expected, Dp5Session.EndedByPreset(status, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ApplyProfileAsync_ReadBackReplyGarbled_ThrowsProtocolErrorNamingDeviceAndFragment()
    {
        // The guide warns the firmware does not check its read-back reply for overflow (reference note mca-and-files.md §1.4):
        // a reply cut short or overwritten is a well-formed 82/07 packet whose text is not NAME=value;… .
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var session = SessionOn(device, cts.Token, (request, reply) =>
            request is { Pid1: 0x20, Pid2: 0x03 } ? new Dp5Packet(0x82, 0x07, Encoding.ASCII.GetBytes("MCAC=1024;GAIN=20.0;TPE")) : reply);
        await session.ConnectAsync(cts.Token);

        var e = await Record.ExceptionAsync(() => session.ApplyProfileAsync(cts.Token));

        var protocol = Assert.IsType<Dp5ProtocolException>(e);
        Assert.Contains("memory", protocol.Message, StringComparison.Ordinal);
        Assert.Contains("'TPE'", protocol.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
    }
}

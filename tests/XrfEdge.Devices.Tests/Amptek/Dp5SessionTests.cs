using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Amptek;

/// <summary>The DP5 session against the simulator over an in-memory null-modem link.</summary>
public sealed class Dp5SessionTests
{
    /// <summary>
    /// A session on a simulator over a memory link; every (re)connect makes a new link, and the device ends of the links
    /// made so far are returned so a test can pull the cable (<see cref="MemoryDuplexStream.Disconnect"/>).
    /// </summary>
    private static (Dp5Session Session, SimulatedDp5 Device, IReadOnlyList<MemoryDuplexStream> Links) Start(SimulatedDp5Options options, CancellationToken ct, int channels = 1024, TimeSpan? replyTimeout = null, int maxAttempts = 4)
    {
        var profile = TestProfiles.Fast(channels, replyTimeout, maxAttempts);
        var device = new SimulatedDp5(options, new ExampleSpectrumSource(options.Seed).Generate, TimeProvider.System);
        var serving = new List<Task>();
        var links = new List<MemoryDuplexStream>();
        var session = new Dp5Session("memory", _ =>
        {
            var (host, dev) = MemoryDuplexStream.CreatePair();
            links.Add(dev);
            serving.Add(Task.Run(async () =>
            {
                if (await device.ServeAsync(dev, ct) == SimulatedLinkEnd.Disconnected)
                {
                    dev.Disconnect();
                }
            }, ct));
            return ValueTask.FromResult<Stream>(host);
        }, profile, TimeProvider.System);
        return (session, device, links);
    }

    /// <summary>
    /// <see cref="Dp5Session.McaMayBeEnabled"/> (hosting review s40): an abort needs a disable round-trip only once an
    /// enable may have reached the device. False while connecting and after a measurement the preset ended; true while a
    /// measurement counts, until an acknowledged disable.
    /// </summary>
    [Fact]
    public async Task McaMayBeEnabled_FollowsEnableStatusAndDisable()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            Assert.False(session.McaMayBeEnabled); // nothing sent yet
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);
            Assert.False(session.McaMayBeEnabled);

            await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.False(session.McaMayBeEnabled); // the preset ended it, and the last status said so

            using var abort = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            var measuring = session.MeasureAsync(TimeSpan.FromSeconds(30), abort.Token);
            for (int i = 0; i < 500 && !device.McaEnabled; i++)
            {
                await Task.Delay(10, cts.Token);
            }

            Assert.True(device.McaEnabled);
            await abort.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => measuring);
            Assert.True(session.McaMayBeEnabled); // aborted while counting: the device must be told

            await session.DisableMcaAsync(cts.Token);
            Assert.False(session.McaMayBeEnabled);
            Assert.False(device.McaEnabled);
        }
    }

    [Fact]
    public async Task MeasureAsync_WellBehavedDevice_ReturnsCalibratedSpectrumWithStatus()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // No retry is asserted below, so the reply time-out is generous: a CI run under load once took > 250 ms.
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            var status = await session.ConnectAsync(cts.Token);
            Assert.Equal(Dp5DeviceType.Dp5, status.DeviceType);
            Assert.Equal(31337u, status.SerialNumber);
            var readBack = await session.ApplyProfileAsync(cts.Token);
            Assert.Equal("1024", readBack["MCAC"]);
            Assert.Equal("20.0", device.Configuration["GAIN"]);

            var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(1024, spectrum.Counts.Length);
            Assert.Equal(TestProfiles.Fast().Calibration, spectrum.Calibration);

            // The simulator stops at PRET exactly (the guide: accumulation stops at the preset), so live time = 0.2 s.
            Assert.Equal(TimeSpan.FromSeconds(0.2), spectrum.LiveTime);
            Assert.True(spectrum.TotalCounts > 0);
            Assert.Equal("Dp5", spectrum.Metadata["device_type"]);
            Assert.Equal("false", spectrum.Metadata["mca_enabled"]);
            Assert.False(device.CommandsReceived.ContainsKey("HVSE"));
            Assert.False(device.CommandsReceived.ContainsKey("TECS"));
            Assert.Equal(0, session.RetryCount);
        }
    }

    [Theory]
    [InlineData(SimulatedFault.Garbage)]
    [InlineData(SimulatedFault.DroppedBytes)]
    [InlineData(SimulatedFault.BadChecksum)]
    [InlineData(SimulatedFault.SlowReplies)]
    [InlineData(SimulatedFault.ErrorAcks)]
    [InlineData(SimulatedFault.Disconnect)]
    public async Task MeasureAsync_FaultEveryThirdReply_StillCompletesWithRetries(SimulatedFault fault)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Slow replies arrive after 600 ms, past the 250 ms + wire-time reply time-out of TestProfiles.Fast.
        var options = new SimulatedDp5Options { Fault = fault, FaultEvery = 3, SlowReplyDelay = TimeSpan.FromMilliseconds(600) };

        // Eight attempts, not four. The simulator answers requests one at a time. A slow reply holds back the retries
        // queued behind it, and their replies use up fault numbers. On a loaded CI machine (one run took 3.6 s here),
        // the most likely cause is this: the late reply and the replies queued behind it arrive after one attempt's
        // deadline but before the next attempt flushes the input. Then that fourth attempt's own reply is the next
        // slow one, and four attempts run out (seen once in CI: "no reply to DP5 01/01 ... after 4 attempts").
        // The test is about recovering from the fault, not about how many attempts that takes. No assertion depends
        // on the count.
        var (session, _, _) = Start(options, cts.Token, maxAttempts: 8);
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);
            var first = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            var second = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(1024, first.Counts.Length);
            Assert.True(second.TotalCounts > 0);
            var recovered = fault == SimulatedFault.Garbage ? session.Decoder.DiscardedByteCount > 0 : session.RetryCount + session.ReconnectCount > 0;
            Assert.True(recovered, $"fault {fault} should have forced a retry or reconnect (garbage: skipped bytes)");
            if (fault == SimulatedFault.Disconnect)
            {
                Assert.True(session.ReconnectCount > 0);
            }
        }
    }

    [Fact]
    public async Task ToRawSpectrum_MoreChannelsThanProfileMcac_ThrowsNamingDeviceProfileAndBothCounts()
    {
        // The review's case: a DP5 left at MCAC=4096 under a profile calibrated for 2048 channels (pi-dp5-uart's MCAC).
        await using var session = new Dp5Session("/dev/ttyACM0", _ => throw new InvalidOperationException("no link needed"), TestProfiles.Fast(2048), TimeProvider.System);
        var e = Assert.Throws<ChannelCountMismatchException>(() => session.ToRawSpectrum(new Dp5Spectrum(new int[4096], null), "m1"));
        Assert.Equal("/dev/ttyACM0", e.DeviceName);
        Assert.Equal(4096, e.ReceivedChannelCount);
        Assert.Equal("test-fast", e.ProfileName);
        Assert.Equal(2048, e.ProfileChannelCount);
        Assert.StartsWith("DP5 on /dev/ttyACM0 sent a 4096-channel spectrum but profile 'test-fast' is calibrated for 2048 channels (Acquisition:Configuration:MCAC)", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(2048)]
    [InlineData(8192)]
    public async Task ToRawSpectrum_ChannelCountEqualsProfileMcac_AttachesTheProfileCalibration(int channels)
    {
        // 256 and 8192 are the DP5's smallest and largest MCAC (guide Table 4).
        var profile = TestProfiles.Fast(channels);
        await using var session = new Dp5Session("/dev/ttyACM0", _ => throw new InvalidOperationException("no link needed"), profile, TimeProvider.System);
        var spectrum = session.ToRawSpectrum(new Dp5Spectrum(new int[channels], null), "m1");
        Assert.Equal(channels, spectrum.Counts.Length);
        Assert.Equal(profile.Calibration, spectrum.Calibration);
    }

    [Fact]
    public async Task MeasureAsync_DeviceMcacChangedBehindTheSession_FailsOnceWithMismatchThenReappliesTheProfile()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, channels: 2048, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);

            // Another interface sets MCAC=4096 without the session knowing (no restart flag, no lost link), or a DP5
            // with firmware before 6.05 was power-cycled on a link that stayed up.
            Assert.True(device.Handle(Dp5Requests.TextConfiguration("MCAC=4096;", saveToFlash: false))!.IsAck);
            var e = await Assert.ThrowsAsync<ChannelCountMismatchException>(() => session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token));
            Assert.Equal(4096, e.ReceivedChannelCount);
            Assert.Equal(2048, e.ProfileChannelCount);
            Assert.Contains("DP5 on memory", e.Message, StringComparison.Ordinal);
            Assert.True(session.ProfileReapplyPending); // was: every later measurement failed the same way until a restart

            var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(1, session.ProfileReapplyCount);
            Assert.Equal("2048", device.Configuration["MCAC"]);
            Assert.Equal(2048, spectrum.Counts.Length);
            Assert.Equal(TestProfiles.Fast(2048).Calibration, spectrum.Calibration);
        }
    }

    [Fact]
    public async Task MeasureAsync_DevicePowerCycledBetweenMeasurements_ReappliesProfileBeforeMeasuring()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // MCAC=2048 and GAIN=20.0 (TestProfiles.Fast) differ from the simulator's power-on MCAC=1024 and GAIN=10.000.
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, channels: 2048, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            // A fresh simulator flags its first status, as a DP5 just switched on does; that is no restart.
            Assert.True((await session.ConnectAsync(cts.Token)).FirstStatusSinceReboot);
            await session.ApplyProfileAsync(cts.Token);
            var before = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(2048, before.Counts.Length);
            Assert.Equal(0, session.DeviceRestartCount);
            Assert.Equal(0, session.ProfileReapplyCount);

            device.PowerCycle();
            Assert.Equal("1024", device.Configuration["MCAC"]);
            var after = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

            Assert.Equal(2048, after.Counts.Length);
            Assert.Equal(TestProfiles.Fast(2048).Calibration, after.Calibration);
            Assert.Equal(TimeSpan.FromSeconds(0.2), after.LiveTime);
            Assert.Equal("2048", device.Configuration["MCAC"]);
            Assert.Equal("20.0", device.Configuration["GAIN"]);
            Assert.Equal(1, session.DeviceRestartCount);
            Assert.Equal(1, session.ProfileReapplyCount);
            Assert.False(session.ProfileReapplyPending);
        }
    }

    [Fact]
    public async Task MeasureAsync_DevicePowerCycledSameMcac_ReappliesGainInsteadOfMeasuringWithTheDefault()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // MCAC=1024 is also the simulator's power-on value, so only the gain (20.0 vs 10.000) differs: no channel-count
        // mismatch would catch it, the spectrum would come back with the calibration of the other gain.
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, channels: 1024, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);
            await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

            device.PowerCycle();
            var after = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

            Assert.Equal(1024, after.Counts.Length);
            Assert.Equal("20.0", device.Configuration["GAIN"]);
            Assert.Equal("1.0US", device.Configuration["TPEA"]);
            Assert.Equal(1, session.ProfileReapplyCount);
        }
    }

    [Fact]
    public async Task MeasureAsync_DevicePowerCycledWhileMeasuring_ThrowsRestartedAndNextMeasurementReapplies()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, channels: 2048, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);

            // A 5 s preset leaves ample time to power-cycle between "enabled" and the end, even on a loaded machine.
            var measuring = session.MeasureAsync(TimeSpan.FromSeconds(5), cts.Token);
            while (device.Configuration["MCAE"] != "ON")
            {
                Assert.False(measuring.IsCompleted, "the measurement ended before the MCA was seen enabled");
                await Task.Delay(5, cts.Token);
            }

            device.PowerCycle();
            var e = await Assert.ThrowsAsync<Dp5DeviceRestartedException>(() => measuring);
            Assert.IsAssignableFrom<IOException>(e);
            Assert.Equal("memory", e.DeviceName);
            Assert.True(e.ProfileWillBeReapplied);
            Assert.StartsWith("DP5 on memory restarted during the measurement", e.Message, StringComparison.Ordinal);
            Assert.EndsWith("the profile will be re-applied before the next one", e.Message, StringComparison.Ordinal);
            Assert.Equal(1, session.DeviceRestartCount);
            Assert.True(session.ProfileReapplyPending);

            var next = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(2048, next.Counts.Length);
            Assert.Equal(TimeSpan.FromSeconds(0.2), next.LiveTime);
            Assert.Equal("2048", device.Configuration["MCAC"]);
            Assert.Equal("20.0", device.Configuration["GAIN"]);
            Assert.Equal(1, session.ProfileReapplyCount);
            Assert.Equal(1, session.DeviceRestartCount);
        }
    }

    [Fact]
    public async Task MeasureAsync_NoProfileAppliedAndDevicePowerCycled_SeesRestartButPushesNoConfiguration()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // Profile MCAC=1024 is the simulator's power-on value, so measuring without applying the profile works.
        var (session, device, _) = Start(new SimulatedDp5Options(), cts.Token, channels: 1024, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            device.PowerCycle();
            var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

            Assert.Equal(1024, spectrum.Counts.Length);
            Assert.Equal(1, session.DeviceRestartCount);
            Assert.Equal(0, session.ProfileReapplyCount);
            Assert.False(session.ProfileReapplyPending);

            // Only PRET went out (one per measurement); the profile's GAIN=20.0 never did, the power-on 10.000 stays.
            Assert.Equal(["PRET"], device.CommandsReceived.Keys);
            Assert.Equal("10.000", device.Configuration["GAIN"]);
        }
    }

    [Fact]
    public async Task GetStatusAsync_LinkDroppedAndReopened_MarksProfileForReapplicationBeforeTheNextMeasurement()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var (session, device, links) = Start(new SimulatedDp5Options(), cts.Token, channels: 2048, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);
            Assert.False(session.ProfileReapplyPending);

            // The cable is pulled and the device keeps its configuration; the session cannot know that it did.
            links[^1].Disconnect();
            var status = await session.GetStatusAsync(cts.Token);
            Assert.False(status.FirstStatusSinceReboot);
            Assert.Equal(1, session.ReconnectCount);
            Assert.Equal(0, session.DeviceRestartCount);
            Assert.True(session.ProfileReapplyPending);

            var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);
            Assert.Equal(2048, spectrum.Counts.Length);
            Assert.Equal(1, session.ProfileReapplyCount);
            Assert.False(session.ProfileReapplyPending);

            // Once by ApplyProfileAsync, once by the re-application.
            Assert.Equal(2, device.CommandsReceived["GAIN"]);
        }
    }

    [Fact]
    public async Task MeasureAsync_FirmwareWithoutRestartFlagPowerCycledAndReplugged_ReappliesAfterTheReconnect()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // 6.04 predates b36 D5 "first status since reboot" (FW6.05+, guide §4.2.1): the reopened link is the only sign.
        var options = new SimulatedDp5Options { FirmwareVersion = new Version(6, 4, 0) };
        var (session, device, links) = Start(options, cts.Token, channels: 2048, replyTimeout: TimeSpan.FromSeconds(5));
        await using (session)
        {
            await session.ConnectAsync(cts.Token);
            await session.ApplyProfileAsync(cts.Token);
            await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

            // A USB X-123 replugged: the device powers up at its defaults and its serial device comes back.
            device.PowerCycle();
            links[^1].Disconnect();
            var spectrum = await session.MeasureAsync(TimeSpan.FromSeconds(0.2), cts.Token);

            Assert.Equal(2048, spectrum.Counts.Length);
            Assert.Equal("2048", device.Configuration["MCAC"]);
            Assert.Equal("20.0", device.Configuration["GAIN"]);
            Assert.Equal(1, session.ReconnectCount);
            Assert.Equal(0, session.DeviceRestartCount);
            Assert.Equal(1, session.ProfileReapplyCount);
        }
    }

    [Fact]
    public async Task ReadSpectrumAsync_LargerMcacThanProfile_HearsOutTheLongerReplyAndReportsTheMismatch()
    {
        var time = new FakeTimeProvider();
        var (host, dev) = MemoryDuplexStream.CreatePair();

        // One attempt, so a time-out would end the read at once instead of being retried.
        var profile = TestProfiles.Fast(1024) with { MaxAttempts = 1 };
        await using var session = new Dp5Session("memory", _ => ValueTask.FromResult<Stream>(host), profile, time);
        var reading = session.ReadSpectrumAsync(clear: false, CancellationToken.None);
        var buffer = new byte[64];
        var n = await dev.ReadAsync(buffer);
        Assert.Equal(Dp5Requests.Spectrum(withStatus: true, clear: false).Encode(), buffer[..n]);
        while (time.PendingTimerCount == 0)
        {
            await Task.Yield();
        }

        // The device is at MCAC=8192: an 81/0C reply of 24,648 bytes where the profile expects 1024 channels + status.
        var reply = new Dp5Spectrum(new int[8192], new Dp5Status { DeviceType = Dp5DeviceType.Dp5 }).Encode().Encode();
        await dev.WriteAsync(reply.AsMemory(0, 1000));
        while (session.Decoder.BufferedByteCount < 1000)
        {
            await Task.Yield();
        }

        // Sized for 1024 channels: 250 ms + 1.5 × 3144 bytes × 10 bit / 115200 baud ≈ 659 ms, so 1 s would time it out;
        // sized for the announced 8192 channels: 250 ms + 1.5 × 24,648 × 10 / 115200 ≈ 3459 ms.
        time.Advance(TimeSpan.FromSeconds(1));
        await dev.WriteAsync(reply.AsMemory(1000));
        var spectrum = await reading;

        Assert.Equal(8192, spectrum.Counts.Length);
        Assert.Equal(0, session.RetryCount);
        var e = Assert.Throws<ChannelCountMismatchException>(() => session.ToRawSpectrum(spectrum, "m1"));
        Assert.Equal(8192, e.ReceivedChannelCount);
        Assert.Equal(1024, e.ProfileChannelCount);
    }

    [Fact]
    public async Task ApplyProfileAsync_UnknownCommand_ThrowsNamingTheEchoedCommand()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        var (host, dev) = MemoryDuplexStream.CreatePair();
        _ = device.ServeAsync(dev, cts.Token);
        var profile = TestProfiles.Fast() with { Configuration = [new("MCAC", "1024"), new("ZZZZ", "1")] };
        await using var session = new Dp5Session("memory", _ => ValueTask.FromResult<Stream>(host), profile, TimeProvider.System);
        var e = await Assert.ThrowsAsync<Dp5ProtocolException>(() => session.ApplyProfileAsync(cts.Token));
        Assert.Equal(Dp5AckCode.UnrecognisedCommand, e.AckCode);
        Assert.Equal("ZZZZ=1", e.EchoedCommand);
        Assert.Contains("ZZZZ=1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyProfileAsync_HvseWithoutPc5_ThrowsPc5NotPresent()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var device = new SimulatedDp5(new SimulatedDp5Options { HasPc5 = false }, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        var (host, dev) = MemoryDuplexStream.CreatePair();
        _ = device.ServeAsync(dev, cts.Token);
        var profile = TestProfiles.Fast() with { Configuration = [new("HVSE", "-130")], AllowHighVoltageCommands = true };
        await using var session = new Dp5Session("memory", _ => ValueTask.FromResult<Stream>(host), profile, TimeProvider.System);
        var e = await Assert.ThrowsAsync<Dp5ProtocolException>(() => session.ApplyProfileAsync(cts.Token));
        Assert.Equal(Dp5AckCode.Pc5NotPresent, e.AckCode);
    }

    [Fact]
    public async Task ExchangeAsync_DeviceSilent_RetriesBoundedTimesOnFakeClockThenTimesOut()
    {
        var time = new FakeTimeProvider();
        var (host, dev) = MemoryDuplexStream.CreatePair();
        var profile = TestProfiles.Fast() with { MaxAttempts = 3 };
        await using var session = new Dp5Session("silent", _ => ValueTask.FromResult<Stream>(host), profile, time);
        var exchange = session.GetStatusAsync(CancellationToken.None);
        var buffer = new byte[64];
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            // Wait for the request to arrive (a synchronisation point, not a sleep), then let the time-out pass.
            var n = await dev.ReadAsync(buffer);
            Assert.Equal(Dp5Requests.Status().Encode(), buffer[..n]);
            while (time.PendingTimerCount == 0)
            {
                await Task.Yield();
            }

            // Status reply: 250 ms + 1.5 × 72 bytes × 10 bit / 115200 baud ≈ 259 ms; 300 ms passes it.
            time.Advance(TimeSpan.FromMilliseconds(300));
        }

        var e = await Assert.ThrowsAsync<TimeoutException>(() => exchange);
        Assert.Contains("3 attempts", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, session.RetryCount);
    }
}

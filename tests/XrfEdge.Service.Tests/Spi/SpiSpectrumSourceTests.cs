using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Spi;
using XrfEdge.Devices.Tests.Support;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Service.Tests.Spi;

/// <summary>The service's SPI source over the simulated MCA below the spidev ioctl seam: measuring, losing the bus, reopening.</summary>
public sealed class SpiSpectrumSourceTests
{
    // 1024 channels at 30/1024 keV per channel (the simulated MCA's own calibration), 0.05 s presets, 10 ms polls and
    // reconnect pauses so the test stays short; 3 attempts and 5 reopenings as the shipped profile would allow.
    private static readonly AcquisitionProfile Profile = new()
    {
        Name = "spi-test",
        Protocol = "spi",
        Device = "/dev/spidev0.0",
        Calibration = new EnergyCalibration(-0.02, 30.0 / 1024),
        PresetTime = TimeSpan.FromSeconds(0.05),
        PollInterval = TimeSpan.FromMilliseconds(10),
        ReplyTimeout = TimeSpan.FromMilliseconds(200),
        MaxAttempts = 3,
        ReconnectAttempts = 5,
        ReconnectDelay = TimeSpan.FromMilliseconds(10),
    };

    [Fact]
    public async Task Acquire_SimulatedMca_ReturnsCalibratedSpectrumWithLiveTime()
    {
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => mca, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);

        var spectrum = await source.AcquireAsync("M-1", Profile.PresetTime, CancellationToken.None);

        Assert.NotNull(spectrum);
        Assert.Equal("M-1", spectrum.Id);
        Assert.Equal(1024, spectrum.Counts.Length);
        Assert.Equal(Profile.Calibration, spectrum.Calibration);
        Assert.Equal(Profile.PresetTime, spectrum.LiveTime); // the simulated MCA stops at the preset and reports whole milliseconds
        Assert.True(spectrum.Counts.Sum() > 0);
        Assert.Equal("spi", spectrum.Metadata["protocol"]);
        Assert.Contains("polled", source.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquire_BusFailsMidMeasurement_ReopensAndCompletes()
    {
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        var flaky = new FailingSpi(mca);
        int opens = 0;
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => { opens++; return flaky; }, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);
        flaky.Transfers = 0;
        flaky.FailAtTransfer = 3; // in the first measurement, after CLEAR's command and its response

        var spectrum = await source.AcquireAsync("M-2", Profile.PresetTime, CancellationToken.None);

        Assert.NotNull(spectrum);
        Assert.Equal("M-2", spectrum.Id);
        Assert.Equal(2, opens);
        Assert.Equal(1, source.ReconnectCount);
    }

    [Fact]
    public async Task Acquire_BusNeverComesBack_FailsNamingDeviceAndAttempts()
    {
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        var flaky = new FailingSpi(mca);
        int opens = 0;
        await using var source = new SpiSpectrumSource(
            Profile,
            null,
            "/dev/gpiochip0",
            false,
            new DeviceOpeners(_ => ++opens == 1 ? flaky : throw new FileNotFoundException("/dev/spidev0.0: No such file or directory (errno 2)"), _ => throw new InvalidOperationException("no GPIO in this test")),
            TimeProvider.System,
            NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);
        flaky.Transfers = 0;
        flaky.FailAtTransfer = 1;

        var error = await Assert.ThrowsAsync<IOException>(() => source.AcquireAsync("M-3", Profile.PresetTime, CancellationToken.None));

        Assert.Contains("/dev/spidev0.0: could not reopen the SPI MCA after 5 attempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", error.Message, StringComparison.Ordinal);
        Assert.Equal(1 + Profile.ReconnectAttempts, opens);
    }

    [Fact]
    public async Task Acquire_McaChannelCountNotTheProfiles_FailsAtOnceWithoutReopening()
    {
        // A 2048-channel MCA under the 1024-channel profile: the firmware's histogram size, which reopening cannot change.
        var mca = new SimulatedSpiMca(2048, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        int opens = 0;
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => { opens++; return mca; }, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<ChannelCountMismatchException>(() => source.AcquireAsync("M-5", Profile.PresetTime, CancellationToken.None));

        Assert.Equal(2048, error.ReceivedChannelCount);
        Assert.Equal(1024, error.ProfileChannelCount);
        Assert.Contains("SPI MCA on /dev/spidev0.0 sent a 2048-channel spectrum but profile 'spi-test' is calibrated for 1024 channels", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, opens);
        Assert.Equal(0, source.ReconnectCount);
    }

    [Fact]
    public async Task Acquire_Cancelled_StopsTheMcaAndThrows()
    {
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => mca, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        // A 60 s preset that the MCA is still counting when the measurement is aborted.
        var measuring = source.AcquireAsync("M-4", TimeSpan.FromSeconds(60), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => measuring);
        using var spi = new SpiDevice(mca, 0, 8_000_000);
        var snapshot = await new SpiMcaClient("/dev/spidev0.0", spi, Profile, TimeProvider.System).ReadSnapshotAsync(clear: false, CancellationToken.None);
        Assert.False(snapshot.Header.Acquiring); // STOP was sent on the abort
        Assert.False(snapshot.Header.PresetReached);
    }

    [Fact]
    public async Task Acquire_CancelledBeforeStartWhileTheMcaIsSilent_SendsNoStop()
    {
        // The MCA stops answering (powered down behind its cable) and a stop comes while CLEAR waits for its reply: START
        // never went out, so nothing counts. Until 2026-11-24 the abort still sent STOP to the silent MCA, up to its 2 s
        // budget, with the X-ray warning on for an exposure that never began.
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        var silent = new SilentSpi(mca);
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => silent, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);
        silent.Silent = true;
        using var cancel = new CancellationTokenSource();

        var measuring = source.AcquireAsync("M-8", TimeSpan.FromSeconds(60), cancel.Token);
        Assert.True(await Wait.UntilAsync(() => silent.SilentTransfers > 0)); // CLEAR is out, its reply awaited
        await cancel.CancelAsync();
        var atCancel = silent.SilentTransfers;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => measuring);

        // At most the poll that was in flight: a STOP would have been sent and polled for its reply (hundreds of transfers).
        Assert.InRange(silent.SilentTransfers - atCancel, 0, 1);
    }

    [Fact]
    public async Task Acquire_CancelledAfterReopeningMidMeasurement_StillStopsTheMcaTheFirstStartBegan()
    {
        // START reaches the MCA (it counts a 60 s preset) and the read of its reply fails with EIO: the source closes the
        // bus, reopens it and measures again from CLEAR, which the MCA, now silent, does not answer. A stop then comes.
        // The first START may be counting still, so the abort must send STOP; until 2026-11-24 the reopened client began
        // with "may be counting" false and the abort sent nothing, leaving the MCA counting the rest of its preset.
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        var bus = new FailThenSilentSpi(mca);
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => bus, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);
        bus.Transfers = 0;
        bus.FailAtTransfer = 4; // CLEAR's command (1) and reply (2), START's command (3), START's reply (4)
        using var cancel = new CancellationTokenSource();

        var measuring = source.AcquireAsync("M-9", TimeSpan.FromSeconds(60), cancel.Token);
        Assert.True(await Wait.UntilAsync(() => bus.SilentTransfers > 0)); // reopened; the second CLEAR awaits its reply
        Assert.Equal(1, source.ReconnectCount);
        bus.Silent = false;
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => measuring);

        using var spi = new SpiDevice(mca, 0, 8_000_000);
        var snapshot = await new SpiMcaClient("/dev/spidev0.0", spi, Profile, TimeProvider.System).ReadSnapshotAsync(clear: false, CancellationToken.None);
        Assert.False(snapshot.Header.Acquiring); // STOP was sent on the abort
    }

    [Fact]
    public async Task Acquire_McaResetsDuringFirstMeasurement_ReopensAndMeasuresAgain()
    {
        // The MCA loses its histogram and stops right after the first START (a brown-out): the client refuses the short
        // spectrum with an SpiProtocolException without NACK code, which takes the reopen-and-measure-again path.
        var mca = new SimulatedSpiMca(1024, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        var resetting = new McaResetAfterStart(mca, once: true, ownsMca: false);
        int opens = 0;
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => { opens++; return resetting; }, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);

        var spectrum = await source.AcquireAsync("M-6", Profile.PresetTime, CancellationToken.None);

        Assert.NotNull(spectrum);
        Assert.Equal(Profile.PresetTime, spectrum.LiveTime);
        Assert.Equal(1, resetting.Resets);
        Assert.Equal(2, opens);
        Assert.Equal(1, source.ReconnectCount);
    }

    [Fact]
    public async Task Acquire_SaturatedSpectrum_FailsAtOnceWithoutReopening()
    {
        // 2-byte counts (maximum 65535) and the example spectrum scaled by 10^6: its peaks clip, the MCA sets flag bit 2.
        var example = McaSimCommand.CreateSource("example", 1);
        var mca = new SimulatedSpiMca(1024, 2, r => example(r) is var s ? s with { Counts = Array.ConvertAll(s.Counts, c => c * 1_000_000) } : null!, TimeProvider.System);
        int opens = 0;
        await using var source = new SpiSpectrumSource(Profile, null, "/dev/gpiochip0", false, new DeviceOpeners(_ => { opens++; return mca; }, _ => throw new InvalidOperationException("no GPIO in this test")), TimeProvider.System, NullLogger.Instance);
        await source.OpenAsync(CancellationToken.None);

        var error = await Assert.ThrowsAsync<SpectrumSaturatedException>(() => source.AcquireAsync("M-7", Profile.PresetTime, CancellationToken.None));

        Assert.True(error.SaturatedChannelCount > 0);
        Assert.Contains("/dev/spidev0.0", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, opens);
        Assert.Equal(0, source.ReconnectCount);
    }

    /// <summary>Passes ioctls to the simulated MCA until <see cref="Silent"/>; then transfers complete and nothing answers (zeros read back).</summary>
    private sealed class SilentSpi(SimulatedSpiMca device) : ISpiIoctl
    {
        private int _silentTransfers;

        public volatile bool Silent;

        public int SilentTransfers => Volatile.Read(ref _silentTransfers);

        public int Ioctl(ulong request, nint argument)
        {
            if (Silent && SpiIoctlNumbers.TransfersIn(request) > 0)
            {
                Interlocked.Increment(ref _silentTransfers);
                return 0;
            }

            return device.Ioctl(request, argument);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Passes ioctls to the simulated MCA, fails transfer number <see cref="FailAtTransfer"/> with EIO, then swallows every transfer (zeros read back) until <see cref="Silent"/> is cleared.</summary>
    private sealed class FailThenSilentSpi(SimulatedSpiMca device) : ISpiIoctl
    {
        private int _silentTransfers;

        public volatile bool Silent;

        public int FailAtTransfer { get; set; }

        public int Transfers { get; set; }

        public int SilentTransfers => Volatile.Read(ref _silentTransfers);

        public int Ioctl(ulong request, nint argument)
        {
            if (SpiIoctlNumbers.TransfersIn(request) > 0)
            {
                if (Silent)
                {
                    Interlocked.Increment(ref _silentTransfers);
                    return 0;
                }

                if (++Transfers == FailAtTransfer)
                {
                    Silent = true;
                    throw new IOException("/dev/spidev0.0: ioctl 0x40206B00 failed: Input/output error (errno 5)");
                }
            }

            return device.Ioctl(request, argument);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Passes ioctls to the simulated MCA but fails transfer number <see cref="FailAtTransfer"/> with EIO, as spidev does when the device vanished.</summary>
    private sealed class FailingSpi(SimulatedSpiMca device) : ISpiIoctl
    {
        public int FailAtTransfer { get; set; }

        public int Transfers { get; set; }

        public int Ioctl(ulong request, nint argument)
        {
            if (SpiIoctlNumbers.TransfersIn(request) > 0 && ++Transfers == FailAtTransfer)
            {
                throw new IOException("/dev/spidev0.0: ioctl 0x40206B00 failed: Input/output error (errno 5)");
            }

            return device.Ioctl(request, argument);
        }

        public void Dispose()
        {
        }
    }
}

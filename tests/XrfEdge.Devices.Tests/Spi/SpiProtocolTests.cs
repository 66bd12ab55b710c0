using System.Runtime.InteropServices;
using System.Text;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Spi;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Spi;

public sealed class SpiProtocolTests
{
    [Fact]
    public void Crc_StandardCheckInputs_MatchCatalogueValues()
    {
        // The CRC catalogue's check values for "123456789": CRC-16/CCITT-FALSE 0x29B1, CRC-32/ISO-HDLC 0xCBF43926.
        var check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0x29B1, SpiCrc.Crc16(check));
        Assert.Equal(0xCBF43926u, SpiCrc.Crc32(check));
        Assert.Equal(0xCBF43926u, SpiCrc.Crc32(check.AsSpan(4), SpiCrc.Crc32(check.AsSpan(0, 4))));
    }

    [Fact]
    public void IoctlNumbers_MatchKernelHeaderValues()
    {
        // Reference note §4.3 (include/uapi/linux/spi/spidev.h): MESSAGE(1) = 0x40206B00, MESSAGE(2) = 0x40406B00.
        Assert.Equal(0x40206B00UL, SpiIoctlNumbers.Message(1));
        Assert.Equal(0x40406B00UL, SpiIoctlNumbers.Message(2));
        Assert.Equal(2, SpiIoctlNumbers.TransfersIn(0x40406B00UL));
        Assert.Equal(0, SpiIoctlNumbers.TransfersIn(SpiIoctlNumbers.WriteMode));
        Assert.Equal(32, Marshal.SizeOf<SpiIocTransfer>());
        Assert.Equal(16, Marshal.OffsetOf<SpiIocTransfer>(nameof(SpiIocTransfer.Length)).ToInt32());
        Assert.Equal(26, Marshal.OffsetOf<SpiIocTransfer>(nameof(SpiIocTransfer.BitsPerWord)).ToInt32());
    }

    [Fact]
    public void Command_Encode_FixedBytes()
    {
        // READ offset 40 length 4092: 58 02 | 00 00 | 28 00 00 00 | FC 0F | CRC-16 of the first 10 bytes, little-endian.
        var bytes = new SpiCommand(SpiOpcode.Read, 0, 40, 4092).Encode();
        Assert.Equal(new byte[] { 0x58, 0x02, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0xFC, 0x0F }, bytes[..10]);
        Assert.Equal(SpiCrc.Crc16(bytes.AsSpan(0, 10)), BitConverter.ToUInt16(bytes, 10));
        Assert.Equal(new SpiCommand(SpiOpcode.Read, 0, 40, 4092), SpiCommand.TryDecode(bytes));
        bytes[5] ^= 1;
        Assert.Null(SpiCommand.TryDecode(bytes));
    }

    [Fact]
    public void Header_RoundTripAndEverySingleByteCorruption_Detected()
    {
        var header = new SpiFrameHeader { CountWidth = 3, ChannelCount = 2048, Sequence = 7, LiveTime = TimeSpan.FromMilliseconds(10_250), RealTime = TimeSpan.FromMilliseconds(10_400), FastCount = 5000, SlowCount = 4800, Flags = 2, PayloadCrc32 = 0xDEADBEEF };
        var bytes = header.Encode();
        Assert.Equal("XMCA"u8.ToArray(), bytes[..4]);
        Assert.Equal(header, SpiFrameHeader.TryDecode(bytes, out var error));
        Assert.Null(error);
        for (var i = 0; i < bytes.Length; i++)
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0x10;
            Assert.Null(SpiFrameHeader.TryDecode(corrupt, out error));
            Assert.NotNull(error);
        }
    }

    [Fact]
    public void Header_UnsupportedVersion_RejectedWithReason()
    {
        var bytes = new SpiFrameHeader { Version = 2, CountWidth = 4, ChannelCount = 1024 }.Encode();
        Assert.Null(SpiFrameHeader.TryDecode(bytes, out var error));
        Assert.Contains("version 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SpiDevice_Constructor_WritesModeBitsAndSpeedThroughIoctls()
    {
        var device = new SimulatedSpiMca(1024, 4, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        using var spi = new SpiDevice(device, mode: 3, maxSpeedHz: 8_000_000);
        Assert.Equal(((byte)3, (byte)8, 8_000_000u), device.Settings);
        Assert.Throws<ArgumentException>(() => spi.Transfer(new byte[4097], new byte[4097]));
    }

    [Fact]
    public void SimulatedIoctl_MessageAboveBufsiz_FailsLikeTheKernel()
    {
        var device = new SimulatedSpiMca(1024, 4, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        var transfers = new SpiIocTransfer[2];
        transfers[0].Length = 3000;
        transfers[1].Length = 3000;
        var e = Assert.Throws<IOException>(() =>
        {
            unsafe
            {
                fixed (SpiIocTransfer* p = transfers)
                {
                    device.Ioctl(SpiIoctlNumbers.Message(2), (nint)p);
                }
            }
        });
        Assert.Contains("Message too long", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8192, 3, false)]
    [InlineData(4096, 4, true)]
    [InlineData(16384, 2, false)]
    public async Task ReadSnapshot_LargeHistogram_ChunkedUnderBufsizAndExact(int channels, byte width, bool withDataReady)
    {
        var device = new SimulatedSpiMca(channels, width, new ExampleSpectrumSource(3).Generate, TimeProvider.System);
        using var spi = new SpiDevice(device, 0, 8_000_000);
        var client = new SpiMcaClient("sim-spi", spi, TestProfiles.Fast(Math.Min(channels, 8192), replyTimeout: TimeSpan.FromSeconds(5)), TimeProvider.System, withDataReady ? device : null);
        await client.CommandAsync(new SpiCommand(SpiOpcode.Start, 0, 100), 0, CancellationToken.None);
        var snapshot = await client.ReadSnapshotAsync(clear: false, CancellationToken.None);
        Assert.Equal(channels, snapshot.Counts.Length);
        Assert.Equal((long)snapshot.Header.SlowCount, snapshot.Counts.Sum());
        Assert.InRange(device.LargestMessageBytes, 1, SpiIoctlNumbers.DefaultBufferSize);
        Assert.Equal(0, client.RetryCount);
    }

    [Fact]
    public async Task ReadSnapshot_BusyNotReadyAndCorruptChunk_RecoversWithRetries()
    {
        var device = new SimulatedSpiMca(2048, 4, new ExampleSpectrumSource(4).Generate, TimeProvider.System)
        {
            BusyOnFirstCommand = true,
            CorruptFirstPayloadChunk = true,
            NotReadyPolls = 2,
        };
        using var spi = new SpiDevice(device, 0, 8_000_000);
        var client = new SpiMcaClient("sim-spi", spi, TestProfiles.Fast(2048), TimeProvider.System);
        var spectrum = await client.MeasureAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        Assert.Equal(2048, spectrum.Counts.Length);

        // The simulator stops at the 100 ms preset exactly.
        Assert.Equal(TimeSpan.FromMilliseconds(100), spectrum.LiveTime);
        Assert.Equal(long.Parse(spectrum.Metadata["slow_count"], System.Globalization.CultureInfo.InvariantCulture), spectrum.TotalCounts);
        Assert.True(client.RetryCount >= 2, "one NACK busy and one CRC-32 mismatch must each cost a retry");
    }

    [Theory]
    [InlineData(4096, 2048)]
    [InlineData(1024, 2048)]
    public async Task Measure_HeaderChannelCountDiffersFromProfileMcac_ThrowsNamingDeviceProfileAndBothCounts(int mcaChannels, int profileChannels)
    {
        // An MCA whose firmware histogram is larger or smaller than the profile's MCAC (both powers of two the profile allows).
        var device = new SimulatedSpiMca(mcaChannels, 4, new ExampleSpectrumSource(5).Generate, TimeProvider.System);
        using var spi = new SpiDevice(device, 0, 8_000_000);
        var client = new SpiMcaClient("/dev/spidev0.0", spi, TestProfiles.Fast(profileChannels, replyTimeout: TimeSpan.FromSeconds(5)), TimeProvider.System);
        var e = await Assert.ThrowsAsync<ChannelCountMismatchException>(() => client.MeasureAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.Equal("/dev/spidev0.0", e.DeviceName);
        Assert.Equal(mcaChannels, e.ReceivedChannelCount);
        Assert.Equal(profileChannels, e.ProfileChannelCount);
        Assert.StartsWith($"SPI MCA on /dev/spidev0.0 sent a {mcaChannels}-channel spectrum but profile 'test-fast' is calibrated for {profileChannels} channels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Measure_HeaderChannelCountEqualsProfileMcac_ReturnsSpectrumWithProfileCalibration()
    {
        var device = new SimulatedSpiMca(2048, 4, new ExampleSpectrumSource(5).Generate, TimeProvider.System);
        using var spi = new SpiDevice(device, 0, 8_000_000);
        var profile = TestProfiles.Fast(2048, replyTimeout: TimeSpan.FromSeconds(5));
        var client = new SpiMcaClient("/dev/spidev0.0", spi, profile, TimeProvider.System);
        var spectrum = await client.MeasureAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None);
        Assert.Equal(2048, spectrum.Counts.Length);
        Assert.Equal(profile.Calibration, spectrum.Calibration);
    }

    [Fact]
    public async Task Command_ReadBeforeSnapshot_NackNoSnapshotIsPermanent()
    {
        var device = new SimulatedSpiMca(1024, 4, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        using var spi = new SpiDevice(device, 0, 8_000_000);
        var client = new SpiMcaClient("sim-spi", spi, TestProfiles.Fast(), TimeProvider.System);
        var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.CommandAsync(new SpiCommand(SpiOpcode.Read, 0, 0, 40), 40, CancellationToken.None));
        Assert.Equal(SpiNackCode.NoSnapshot, e.NackCode);
    }
}

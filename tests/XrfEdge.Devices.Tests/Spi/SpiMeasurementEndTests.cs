using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Spi;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Spi;

/// <summary>
/// When <see cref="SpiMcaClient.MeasureAsync"/> accepts the end of a measurement (docs/spi-mca-protocol.md §5, §6):
/// preset reached or live time within one 1 ms tick of the preset, snapshot sequence increasing, no saturated channel.
/// The MCA's snapshots are stated exactly by <see cref="ReplaySpiMca"/>.
/// </summary>
public sealed class SpiMeasurementEndTests
{
    // 20 ms: short enough to keep the tests quick; the client waits the preset before its first SNAPSHOT.
    private static readonly TimeSpan Preset = TimeSpan.FromMilliseconds(20);

    // Flag bits of §5.
    private const ushort Acquiring = 1;
    private const ushort PresetReached = 2;
    private const ushort Saturated = 4;

    private static (SpiFrameHeader, long[]) Image(uint sequence, int liveMilliseconds, ushort flags, byte width = 4, long[]? counts = null) =>
        (new SpiFrameHeader { CountWidth = width, Sequence = sequence, LiveTime = TimeSpan.FromMilliseconds(liveMilliseconds), RealTime = TimeSpan.FromMilliseconds(liveMilliseconds), Flags = flags }, counts ?? new long[1024]);

    private static SpiMcaClient Client(ReplaySpiMca mca, out SpiDevice spi)
    {
        spi = new SpiDevice(mca, 0, 8_000_000);
        return new SpiMcaClient("/dev/spidev0.0", spi, TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(2)), TimeProvider.System);
    }

    [Fact]
    public async Task Measure_PresetReachedFlag_Accepted()
    {
        var mca = new ReplaySpiMca(Image(7, 20, PresetReached));
        var client = Client(mca, out var spi);
        using (spi)
        {
            var spectrum = await client.MeasureAsync(Preset, CancellationToken.None);
            Assert.Equal(Preset, spectrum.LiveTime);
            Assert.Equal(20u, mca.StartPresetMilliseconds);
        }
    }

    [Fact]
    public async Task Measure_StoppedOneTickShortWithoutFlag_Accepted()
    {
        // 19 ms of a 20 ms preset: the MCA may stop on the tick before the preset; one tick of slack is allowed.
        var client = Client(new ReplaySpiMca(Image(7, 19, 0)), out var spi);
        using (spi)
        {
            var spectrum = await client.MeasureAsync(Preset, CancellationToken.None);
            Assert.Equal(TimeSpan.FromMilliseconds(19), spectrum.LiveTime);
        }
    }

    [Fact]
    public async Task Measure_StoppedTwoTicksShortWithoutFlag_ThrowsNamingDeviceAndTimes()
    {
        var client = Client(new ReplaySpiMca(Image(7, 18, 0)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Null(e.NackCode); // the service's reconnect path repeats the measurement only for these
            Assert.Contains("/dev/spidev0.0", e.Message, StringComparison.Ordinal);
            Assert.Contains("live time 18 ms of 20 ms", e.Message, StringComparison.Ordinal);
            Assert.Contains("reset", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Measure_SequenceGoesBackBetweenSnapshots_Throws()
    {
        // Still acquiring at snapshot 41; the next one says 1 (the counter restarted with the MCA) and "preset reached".
        var client = Client(new ReplaySpiMca(Image(41, 10, Acquiring), Image(1, 20, PresetReached)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Contains("sequence went from 41 to 1", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Measure_SequenceRepeats_Throws()
    {
        var client = Client(new ReplaySpiMca(Image(41, 10, Acquiring), Image(41, 20, PresetReached)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Contains("sequence went from 41 to 41", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Measure_SequenceIncreasesWhilePolling_Accepted()
    {
        var client = Client(new ReplaySpiMca(Image(41, 10, Acquiring), Image(42, 15, Acquiring), Image(45, 20, PresetReached)), out var spi);
        using (spi)
        {
            var spectrum = await client.MeasureAsync(Preset, CancellationToken.None);
            Assert.Equal("45", spectrum.Metadata["snapshot_sequence"]);
        }
    }

    [Theory]
    [InlineData(0xFFFFFFFFu, 0u)] // the u32 counter of §5 wraps from 2^32 − 1 to 0 on the next SNAPSHOT
    [InlineData(0xFFFFFFFEu, 1u)] // two SNAPSHOTs across the wrap (a retried SNAPSHOT whose ACK was lost)
    public async Task Measure_SequenceWrapsPastTwoToThe32_Accepted(uint before, uint after)
    {
        var client = Client(new ReplaySpiMca(Image(before, 10, Acquiring), Image(after, 20, PresetReached)), out var spi);
        using (spi)
        {
            var spectrum = await client.MeasureAsync(Preset, CancellationToken.None);
            Assert.Equal(after.ToString(System.Globalization.CultureInfo.InvariantCulture), spectrum.Metadata["snapshot_sequence"]);
        }
    }

    [Fact]
    public async Task Measure_SequenceWrapsTwiceWhilePolling_Accepted()
    {
        var client = Client(new ReplaySpiMca(Image(0xFFFFFFFE, 5, Acquiring), Image(0xFFFFFFFF, 10, Acquiring), Image(0, 15, Acquiring), Image(1, 20, PresetReached)), out var spi);
        using (spi)
        {
            var spectrum = await client.MeasureAsync(Preset, CancellationToken.None);
            Assert.Equal("1", spectrum.Metadata["snapshot_sequence"]);
        }
    }

    [Theory]
    [InlineData(0u, 0xFFFFFFFFu, "sequence went from 0 to 4294967295")] // one step back across the wrap
    [InlineData(0xFFFFFFFFu, 0xFFFFFFFFu, "sequence went from 4294967295 to 4294967295")] // repeated at the top
    [InlineData(5u, 0x80000005u, "sequence went from 5 to 2147483653")] // exactly 2^31 apart: RFC 1982 leaves it undefined, so not "later"
    public async Task Measure_SequenceNotLaterInSerialNumberArithmetic_Throws(uint before, uint after, string expected)
    {
        var client = Client(new ReplaySpiMca(Image(before, 10, Acquiring), Image(after, 20, PresetReached)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Measure_RestartFromAboveTwoToThe31_CaughtByLiveTimeNotBySequence()
    {
        // A restart from sequence 0x90000000 to 1 is a forward step of 0x70000001 < 2^31 in serial-number arithmetic, so
        // the sequence cannot see it; the restarted MCA is idle with zero live time and no "preset reached" (§6), which can.
        var client = Client(new ReplaySpiMca(Image(0x90000000, 10, Acquiring), Image(1, 0, 0)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpiProtocolException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Contains("live time 0 ms of 20 ms", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0.0004)] // rounds to 0 ms: START offset 0 means "no preset" (§3), the MCA would count forever
    [InlineData(0.0)]
    [InlineData(-1.0)]
    public async Task Measure_PresetBelowOneMillisecond_RefusedBeforeAnyCommand(double presetSeconds)
    {
        var mca = new ReplaySpiMca(Image(1, 0, 0));
        var client = Client(mca, out var spi);
        using (spi)
        {
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.MeasureAsync(TimeSpan.FromSeconds(presetSeconds), CancellationToken.None));
            Assert.Empty(mca.Commands);
        }
    }

    [Theory]
    [InlineData(2, 65535L)] // 2^16 − 1: the largest count in 2 bytes (§5, flags bit 2)
    [InlineData(3, 16777215L)] // 2^24 − 1
    [InlineData(4, 4294967295L)] // 2^32 − 1
    public async Task Measure_ChannelAtMaximumWithoutSaturatedFlag_ThrowsNamingTheChannel(int width, long maximum)
    {
        // Firmware that clips without setting flags bit 2: the counts themselves show it.
        var counts = new long[1024];
        counts[517] = maximum;
        counts[516] = maximum - 1;
        var client = Client(new ReplaySpiMca(Image(3, 20, PresetReached, width: (byte)width, counts)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpectrumSaturatedException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Equal(1, e.SaturatedChannelCount);
            Assert.Equal(maximum, e.MaximumCount);
            Assert.Contains("/dev/spidev0.0", e.Message, StringComparison.Ordinal);
            Assert.Contains("channel 517", e.Message, StringComparison.Ordinal);
            Assert.Contains("flag not set", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Measure_ChannelOneBelowMaximumWithoutFlag_Accepted()
    {
        // 65534 = 2^16 − 2 still fits, so nothing was clipped.
        var counts = new long[1024];
        counts[517] = 65534;
        var client = Client(new ReplaySpiMca(Image(3, 20, PresetReached, width: 2, counts)), out var spi);
        using (spi)
        {
            var spectrum = await client.MeasureAsync(Preset, CancellationToken.None);
            Assert.Equal(65534, spectrum.Counts[517]);
        }
    }

    [Fact]
    public async Task Measure_SaturatedFlag_MessageNamesTheFirstClippedChannel()
    {
        var counts = new long[1024];
        counts[100] = counts[101] = 65535;
        var client = Client(new ReplaySpiMca(Image(3, 20, PresetReached | Saturated, width: 2, counts)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpectrumSaturatedException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Contains("channel 100", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Measure_SaturatedFlag_ThrowsNamingDeviceClippedChannelsAndRemedy()
    {
        // 2-byte counts: the maximum is 2^16 − 1 = 65535; three channels clipped there.
        var counts = new long[1024];
        counts[100] = counts[101] = counts[102] = 65535;
        counts[99] = 40_000;
        var client = Client(new ReplaySpiMca(Image(3, 20, PresetReached | Saturated, width: 2, counts)), out var spi);
        using (spi)
        {
            var e = await Assert.ThrowsAsync<SpectrumSaturatedException>(() => client.MeasureAsync(Preset, CancellationToken.None));
            Assert.Equal(3, e.SaturatedChannelCount);
            Assert.Equal(65535, e.MaximumCount);
            Assert.Contains("/dev/spidev0.0", e.Message, StringComparison.Ordinal);
            Assert.Contains("3 channel(s) at the maximum count 65535", e.Message, StringComparison.Ordinal);
            Assert.Contains("shorter preset or a lower tube current", e.Message, StringComparison.Ordinal);
        }
    }
}

using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Spi;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Spi;

/// <summary>
/// Review (branch review-spi): hostile-MCA cases where <see cref="SpiMcaClient.MeasureAsync"/> hands back a wrong
/// spectrum as if it were good. These tests state the wanted behaviour and FAIL on the reviewed code.
/// </summary>
public sealed class SpiReviewTests
{
    /// <summary>
    /// The MCA browns out / its watchdog fires right after START: histogram, timers and sequence are lost and it is no
    /// longer acquiring. The next SNAPSHOT says "not acquiring, preset not reached, live 0 ms" and the client returns that
    /// empty spectrum as the measurement (docs §6 exits the poll loop on "not acquiring").
    /// </summary>
    [Fact]
    public async Task Measure_McaResetRightAfterStart_EmptyShortSpectrumIsNotAcceptedAsGood()
    {
        var inner = new SimulatedSpiMca(1024, 4, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        using var spi = new SpiDevice(new McaResetAfterStart(inner, once: false, ownsMca: true), 0, 8_000_000);
        var client = new SpiMcaClient("/dev/spidev0.0", spi, TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(2)), TimeProvider.System);
        var preset = TimeSpan.FromMilliseconds(300);

        XrfEdge.Spectra.RawSpectrum? spectrum = null;
        var e = await Record.ExceptionAsync(async () => spectrum = await client.MeasureAsync(preset, CancellationToken.None));
        Assert.True(
            e is IOException,
            spectrum is null ? $"unexpected {e}" : $"accepted as good: live time {spectrum.LiveTime} of a {preset} preset, {spectrum.TotalCounts} counts, flags {spectrum.Metadata["flags"]}, snapshot_sequence {spectrum.Metadata["snapshot_sequence"]}");
        Assert.Contains("stopped before its preset", e!.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// 2-byte counts and a strong peak: the device clips a channel at 65535 and sets header flag bit 2 ("a channel
    /// saturated"). The client ignores the bit: the clipped spectrum is returned with no error and no marker.
    /// </summary>
    [Fact]
    public async Task Measure_SaturatedChannelFlag_IsNotSilentlyAccepted()
    {
        var example = new ExampleSpectrumSource(2);
        var device = new SimulatedSpiMca(1024, 2, r => example.Generate(r) is var s ? s with { Counts = Array.ConvertAll(s.Counts, c => c * 1_000_000) } : null!, TimeProvider.System);
        using var spi = new SpiDevice(device, 0, 8_000_000);
        var client = new SpiMcaClient("/dev/spidev0.0", spi, TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(2)), TimeProvider.System);

        XrfEdge.Spectra.RawSpectrum? spectrum = null;
        var e = await Record.ExceptionAsync(async () => spectrum = await client.MeasureAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None));
        if (e is IOException)
        {
            return; // refusing the spectrum is an acceptable fix
        }

        Assert.Null(e);
        Assert.True((int.Parse(spectrum!.Metadata["flags"], System.Globalization.CultureInfo.InvariantCulture) & 4) != 0, "precondition: the device reported saturation");
        Assert.True(
            spectrum.Metadata.ContainsKey("saturated"),
            $"saturated spectrum accepted silently: {spectrum.Counts.Count(c => c == 65535)} channels clipped at 65535, flags {spectrum.Metadata["flags"]}, no error, no marker");
    }
}

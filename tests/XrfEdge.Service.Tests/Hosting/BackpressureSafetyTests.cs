using XrfEdge.Service.Options;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>
/// A stop or an opening interlock while a Continuous run or a scan waits on a full spectra channel (analysis slower than
/// the MCA: the run is slowed, not points lost) must switch the X-ray warning off at once, not when the analysis frees a
/// slot. Until 2026-11-24 the warning (pin 22) stayed on for as long as the channel stayed full: seconds behind a slow
/// model batch, with the operator's stop already given or the lid already open.
/// </summary>
public sealed class BackpressureSafetyTests
{
    [Theory]
    [InlineData(MeasurementMode.Continuous, "stop")]
    [InlineData(MeasurementMode.Scan, "stop")]
    [InlineData(MeasurementMode.Continuous, "interlock")]
    [InlineData(MeasurementMode.Scan, "interlock")]
    public async Task Run_StopOrInterlockWhileWaitingOnAFullChannel_XrayWarningOffAtOnce(MeasurementMode mode, string cause)
    {
        using var run = await SafetyReviewTests.StalledScan.StartAsync(gpio: true, mode);
        Assert.True(run.Parts.Chip.IsPhysicallyHigh(22), "the stalled run should still show the X-ray warning (precondition)");

        if (cause == "stop")
        {
            run.Control.RequestStop("stop command");
        }
        else
        {
            run.Parts.Chip.SetInputLevel(27, high: true, TimeSpan.FromMilliseconds(50)); // opens for longer than the 5 ms debounce
        }

        var off = await Wait.UntilAsync(() => !run.Parts.Chip.IsPhysicallyHigh(22));
        var acquired = run.Parts.Source.Acquired;
        Assert.True(off, $"{cause} while the {mode} run waited on its full channel ({acquired} acquisitions): the X-ray warning stayed on");
        Assert.Equal(run.StalledAt, acquired); // switched off while still stalled, not by a run that went on
    }
}

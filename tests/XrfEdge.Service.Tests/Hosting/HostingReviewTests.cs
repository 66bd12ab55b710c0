using XrfEdge.Service.Hosting;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>
/// Hosting review (s40), the parts below the host: the pending auto-start in <see cref="MeasurementControl"/> and the
/// recovery of a condition in <see cref="InstrumentStatus"/>. The end-to-end cases (a real DP5 source on a pty) are in
/// <see cref="Dp5LinkServiceTests"/>.
/// </summary>
public sealed class HostingReviewTests
{
    [Fact]
    public async Task AutoStart_StopBeforeTheWorkerRequestsIt_CancelledForGoodAndNothingQueued()
    {
        var control = new MeasurementControl(autoStart: true);
        Assert.True(control.AutoStartPending);

        control.RequestStop("stop command"); // e.g. while the worker waits for its DP5, or during start-up

        Assert.False(control.AutoStartPending);
        Assert.Equal("stop command", control.AutoStartCancelledBy);
        Assert.True(control.AutoStartCancelled.IsCompleted);
        Assert.False(control.TryRequestAutoStart());
        Assert.False(control.Running);
        Assert.False(await TakeStartAsync(control) is not null, "a start was queued after the stop cancelled the auto-start");
    }

    [Fact]
    public async Task AutoStart_StopAfterItWasQueued_DropsIt()
    {
        var control = new MeasurementControl(autoStart: true);
        Assert.True(control.TryRequestAutoStart());
        Assert.False(control.TryRequestAutoStart()); // once

        control.RequestStop("stop command");

        Assert.Null(await TakeStartAsync(control));
        Assert.Null(control.AutoStartCancelledBy); // nothing was pending to cancel: the stop dropped the queued start
        Assert.False(control.AutoStartCancelled.IsCompleted);
    }

    [Fact]
    public async Task AutoStart_TriggerPressedWhileItWaits_OneStartRuns()
    {
        var control = new MeasurementControl(autoStart: true);
        Assert.True(control.RequestStart("trigger")); // pressed while the worker waits for its DP5

        Assert.True(control.TryRequestAutoStart());

        Assert.Equal("trigger", (await TakeStartAsync(control))?.Origin);
        Assert.Null(await TakeStartAsync(control)); // the auto-start merged into the pending start: one exposure
    }

    [Fact]
    public void AutoStartOff_NothingPendingAndAStopCancelsNothing()
    {
        var control = new MeasurementControl();
        Assert.False(control.AutoStartPending);
        control.RequestStop("stop command");
        Assert.Null(control.AutoStartCancelledBy);
        Assert.False(control.TryRequestAutoStart());
    }

    [Fact]
    public void Recovered_StillTheLastError_ClearsItAndTheFault()
    {
        var status = new InstrumentStatus();
        status.ReportFault("DP5 not reachable");
        Assert.Equal(ServiceState.Fault, status.State);

        Assert.True(status.Recovered("DP5 not reachable"));

        Assert.Equal(ServiceState.Idle, status.State);
        Assert.Null(status.LastError);
    }

    [Fact]
    public void Recovered_ALaterErrorReplacedIt_LaterErrorAndItsFaultStay()
    {
        var status = new InstrumentStatus();
        status.ReportFault("DP5 not reachable");
        status.SetState(ServiceState.Fault, "analysis failed: encoder");

        Assert.False(status.Recovered("DP5 not reachable"));

        Assert.Equal(ServiceState.Fault, status.State);
        Assert.Equal("analysis failed: encoder", status.LastError);
    }

    [Fact]
    public void Recovered_WhileMeasuring_ClearsTheErrorAndKeepsMeasuring()
    {
        var status = new InstrumentStatus();
        status.ReportFault("DP5 not reachable");
        status.SetState(ServiceState.Measuring);

        Assert.True(status.Recovered("DP5 not reachable"));

        Assert.Equal(ServiceState.Measuring, status.State);
        Assert.Null(status.LastError);
        status.SetState(ServiceState.Idle);
        Assert.Equal(ServiceState.Idle, status.State);
    }

    /// <summary>The next queued start, or null when none comes within 200 ms.</summary>
    private static async Task<StartRequest?> TakeStartAsync(MeasurementControl control)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        try
        {
            return await control.WaitForStartAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}

using System.Text;
using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Simulation;

/// <summary>The simulator's device model on a fake clock, request by request.</summary>
public sealed class SimulatedDp5Tests
{
    private readonly FakeTimeProvider _time = new();

    private SimulatedDp5 Create() => new(new SimulatedDp5Options(), new ExampleSpectrumSource(9).Generate, _time);

    private static Dp5Status StatusOf(Dp5Packet? reply) => Dp5Status.Decode(reply!.Data);

    [Fact]
    public void Preset_AccumulationReachesPret_McaStopsAndEnableDoesNotResumeUntilClear()
    {
        var device = Create();
        Assert.Equal(Dp5AckCode.Ok, (Dp5AckCode)device.Handle(Dp5Requests.TextConfiguration("PRET=2.0;", false))!.Pid2);
        device.Handle(Dp5Requests.ClearSpectrum());
        device.Handle(Dp5Requests.EnableMca());
        _time.Advance(TimeSpan.FromSeconds(1.5));
        var running = StatusOf(device.Handle(Dp5Requests.Status()));
        Assert.True(running.McaEnabled);
        Assert.Equal(TimeSpan.FromSeconds(1.5), running.AccumulationTime);

        _time.Advance(TimeSpan.FromSeconds(1));
        var stopped = StatusOf(device.Handle(Dp5Requests.Status()));
        Assert.False(stopped.McaEnabled);
        Assert.Equal(TimeSpan.FromSeconds(2), stopped.AccumulationTime);

        // Guide §4.1.22: enable resumes without clearing; at a reached preset it stays stopped until cleared.
        device.Handle(Dp5Requests.EnableMca());
        Assert.False(StatusOf(device.Handle(Dp5Requests.Status())).McaEnabled);
        device.Handle(Dp5Requests.ClearSpectrum());
        device.Handle(Dp5Requests.EnableMca());
        Assert.True(StatusOf(device.Handle(Dp5Requests.Status())).McaEnabled);
    }

    [Fact]
    public void Spectrum_HalfThePreset_HoldsAboutHalfTheFinalCounts()
    {
        var device = Create();
        device.Handle(Dp5Requests.TextConfiguration("MCAC=512;PRET=4.0;", false));
        device.Handle(Dp5Requests.ClearSpectrum());
        device.Handle(Dp5Requests.EnableMca());
        _time.Advance(TimeSpan.FromSeconds(2));
        var half = Dp5Spectrum.Decode(device.Handle(Dp5Requests.Spectrum(withStatus: true, clear: false))!);
        _time.Advance(TimeSpan.FromSeconds(2));
        var full = Dp5Spectrum.Decode(device.Handle(Dp5Requests.Spectrum(withStatus: true, clear: false))!);
        Assert.Equal(512, full.Counts.Length);
        long halfSum = half.Counts.Sum(c => (long)c), fullSum = full.Counts.Sum(c => (long)c);

        // Counts scale with accumulated time (floor per channel loses < 1 count per channel).
        Assert.InRange(halfSum, (fullSum / 2) - 512, (fullSum / 2) + 1);
        Assert.Equal((uint)fullSum, full.Status!.SlowCount);
    }

    [Fact]
    public void ReadBack_KnownAndUnknown_ReportsValueAndQuestionMarks()
    {
        var device = Create();
        var reply = device.Handle(Dp5Requests.ReadBack("MCAC;XXXX;"))!;
        Assert.Equal((0x82, 0x07), (reply.Pid1, reply.Pid2));
        Assert.Equal("MCAC=1024;XXXX=??;", Encoding.ASCII.GetString(reply.Data));
    }

    [Fact]
    public void Handle_UnknownPid_AnswersPidErrorAck()
    {
        var reply = Create().Handle(new Dp5Packet(0x33, 0x44))!;
        Assert.Equal((0xFF, (byte)Dp5AckCode.PidError), (reply.Pid1, reply.Pid2));
    }

    [Fact]
    public void Handle_EchoAndAckTest_AnswerAsTheGuideSays()
    {
        var device = Create();
        var echo = device.Handle(Dp5Requests.Echo([1, 2, 3]))!;
        Assert.Equal((0x8F, 0x7F), (echo.Pid1, echo.Pid2));
        Assert.Equal(new byte[] { 1, 2, 3 }, echo.Data);
        Assert.Equal(0x0B, device.Handle(Dp5Requests.RequestAck(0x0B))!.Pid2);
    }

    [Fact]
    public void PowerCycle_ConfiguredAndMeasuring_BackToDefaultsDisabledClearedAndNextStatusFlagged()
    {
        var device = Create();
        Assert.True(StatusOf(device.Handle(Dp5Requests.Status())).FirstStatusSinceReboot);
        device.Handle(Dp5Requests.TextConfiguration("MCAC=2048;GAIN=20.0;PRET=5.0;", false));
        device.Handle(Dp5Requests.ClearSpectrum());
        device.Handle(Dp5Requests.EnableMca());
        _time.Advance(TimeSpan.FromSeconds(1));
        var running = StatusOf(device.Handle(Dp5Requests.Status()));
        Assert.True(running.McaEnabled);
        Assert.False(running.FirstStatusSinceReboot);

        device.PowerCycle();
        _time.Advance(TimeSpan.FromSeconds(1));

        // The constructor's defaults: MCAC=1024, GAIN=10.000, PRET=OFF; a 20/04 configuration lives in RAM only.
        Assert.Equal("1024", device.Configuration["MCAC"]);
        Assert.Equal("10.000", device.Configuration["GAIN"]);
        Assert.Equal("OFF", device.Configuration["PRET"]);
        var first = StatusOf(device.Handle(Dp5Requests.Status()));
        Assert.True(first.FirstStatusSinceReboot);
        Assert.False(first.McaEnabled);
        Assert.Equal(TimeSpan.Zero, first.AccumulationTime);
        Assert.False(StatusOf(device.Handle(Dp5Requests.Status())).FirstStatusSinceReboot);
        var spectrum = Dp5Spectrum.Decode(device.Handle(Dp5Requests.Spectrum(withStatus: true, clear: false))!);
        Assert.Equal(1024, spectrum.Counts.Length);
        Assert.All(spectrum.Counts, c => Assert.Equal(0, c));
    }

    [Fact]
    public void PowerCycle_FirmwareBefore605_NeverFlagsFirstStatusSinceReboot()
    {
        // 6.04: the last firmware without b36 D5 (guide §4.2.1: "first status since reboot", FW6.05+).
        var device = new SimulatedDp5(new SimulatedDp5Options { FirmwareVersion = new Version(6, 4, 0) }, new ExampleSpectrumSource(9).Generate, _time);
        var first = StatusOf(device.Handle(Dp5Requests.Status()));
        Assert.False(first.FirstStatusSinceReboot);
        Assert.Equal(new Version(6, 4, 0), first.FirmwareVersion);
        device.PowerCycle();
        Assert.False(StatusOf(device.Handle(Dp5Requests.Status())).FirstStatusSinceReboot);
    }
}

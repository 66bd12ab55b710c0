using System.Threading.Channels;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

public sealed class PipelineHealthTests
{
    // Allowance 20 s = the Health:StallSeconds default.
    private static readonly TimeSpan Allowance = TimeSpan.FromSeconds(20);

    [Fact]
    public void Busy_WithinExpectedPlusAllowance_IsAlive()
    {
        var time = new FakeTimeProvider();
        var health = new PipelineHealth(time, Allowance);
        health.Busy("acquisition", TimeSpan.FromSeconds(30)); // a 30 s preset

        time.Advance(TimeSpan.FromSeconds(49));

        Assert.True(health.IsAlive(out _));
    }

    [Fact]
    public void Busy_BeyondExpectedPlusAllowance_IsStalled()
    {
        var time = new FakeTimeProvider();
        var health = new PipelineHealth(time, Allowance);
        health.Busy("acquisition", TimeSpan.FromSeconds(30));

        time.Advance(TimeSpan.FromSeconds(51));

        Assert.False(health.IsAlive(out string? problem));
        Assert.Contains("acquisition busy for 51 s", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Idle_ForHours_IsAlive()
    {
        var time = new FakeTimeProvider();
        var health = new PipelineHealth(time, Allowance);
        health.Idle("analysis");

        time.Advance(TimeSpan.FromHours(5)); // waiting for a trigger is not a stall

        Assert.True(health.IsAlive(out _));
    }

    [Fact]
    public void Dead_Worker_IsNotAliveAndNotForgotten()
    {
        var health = new PipelineHealth(new FakeTimeProvider(), Allowance);
        health.Dead("publishing", "disk I/O error");
        health.Finished("publishing");

        Assert.False(health.IsAlive(out string? problem));
        Assert.Equal("publishing stopped: disk I/O error", problem);
        Assert.True(health.AnyWorkerCrashed);
    }

    [Fact]
    public async Task WriteAsync_DownstreamFullForMinutes_IsAliveThenBusyAgainWithFullAllowance()
    {
        var time = new FakeTimeProvider();
        var health = new PipelineHealth(time, Allowance);
        var channel = Channel.CreateBounded<int>(1);
        channel.Writer.TryWrite(0); // the next stage has not taken the last item (e.g. publishing waits for disk space)
        health.Busy("analysis", TimeSpan.FromSeconds(5));

        var write = health.WriteAsync("analysis", channel.Writer, 1).AsTask();
        time.Advance(TimeSpan.FromMinutes(10));

        Assert.False(write.IsCompleted);
        Assert.True(health.IsAlive(out string? problem), problem); // backpressure, not a stall of this worker

        Assert.True(channel.Reader.TryRead(out _));
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(channel.Reader.TryRead(out int written));
        Assert.Equal(1, written);
        time.Advance(TimeSpan.FromSeconds(24));
        Assert.True(health.IsAlive(out _)); // busy again, with the 5 s + 20 s allowance counted from the write
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(health.IsAlive(out problem));
        Assert.Contains("analysis busy", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_RoomInChannel_KeepsBusyClock()
    {
        var time = new FakeTimeProvider();
        var health = new PipelineHealth(time, Allowance);
        var channel = Channel.CreateBounded<int>(4);
        health.Busy("analysis", TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(20));

        await health.WriteAsync("analysis", channel.Writer, 1);
        time.Advance(TimeSpan.FromSeconds(6));

        Assert.False(health.IsAlive(out _)); // a write that did not wait does not reset the stall clock
    }
}

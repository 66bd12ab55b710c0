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
}

using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Hosting;

/// <summary>The publishing stage's share of the stop (Health:StopTimeoutSeconds, the host's ShutdownTimeout) on a real clock.</summary>
public sealed class StopBudgetTests
{
    [Fact]
    public async Task Stop_StoreStillRunningThenEndlessDrain_DrainEndsWithinTheStopBudgetCountedFromSigterm()
    {
        // Health:StopTimeoutSeconds 11 → drain budget 11 - 7 = 4 s. The result in hand at SIGTERM takes 8 s to commit (a
        // slow card); the backlog never empties while connected. The drain budget used to start only once the stage's
        // input had ended (8 s + 4 s = 12 s > 11 s): the host gave up waiting, disposed the outbox and the transport
        // under the running drain, and "offline" was never published (a clean DISCONNECT suppresses the will).
        var parts = new FakeComponents();
        parts.Source.Limit = 1;
        var settings = FakeComponents.Settings(MeasurementMode.Continuous, gpio: false);
        settings.Acquisition.AutoStart = true;
        settings.Health.StopTimeoutSeconds = 11;
        parts.Publisher.StoreDelay = TimeSpan.FromSeconds(8);
        parts.Publisher.DrainsUntilCancelled = true;
        using var host = parts.BuildHost(settings);
        await host.StartAsync();
        Assert.True(await Wait.UntilAsync(() => parts.Publisher.StoreAttempts > 0));

        var watch = Stopwatch.StartNew();
        try
        {
            await host.StopAsync();
        }
        catch (OperationCanceledException)
        {
            // The host's ShutdownTimeout elapsed: asserted below.
        }

        Assert.True(parts.Publisher.StopCompleted, $"the host stopped waiting after {watch.Elapsed.TotalSeconds:F1} s while the publisher was still draining");
        Assert.Single(parts.Publisher.Results);
        Assert.InRange(watch.Elapsed.TotalSeconds, 7, 10.5); // the 8 s store, then no drain: its 4 s were spent meanwhile
    }

    [Fact]
    public async Task Stop_EndlessDrain_EndsTheReserveBeforeTheStopTimeout()
    {
        // Health:StopTimeoutSeconds 9 → the drain ends 9 - 7 = 2 s after SIGTERM, leaving 5 s for an unanswered
        // "offline" and 2 s for a DISCONNECT stuck behind a full send buffer (the transport's DisconnectTimeout). With
        // the 5 s reserve of before, the drain ran 4 s, and such a stop ended 2 s past the host's ShutdownTimeout.
        var parts = new FakeComponents();
        parts.Source.Limit = 1;
        var settings = FakeComponents.Settings(MeasurementMode.Continuous, gpio: false);
        settings.Acquisition.AutoStart = true;
        settings.Health.StopTimeoutSeconds = 9;
        parts.Publisher.DrainsUntilCancelled = true;
        using var host = parts.BuildHost(settings);
        await host.StartAsync();
        Assert.True(await Wait.UntilAsync(() => parts.Publisher.Results.Count > 0));

        var watch = Stopwatch.StartNew();
        await host.StopAsync();
        Assert.True(parts.Publisher.StopCompleted);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.5, 3.5);
    }
}

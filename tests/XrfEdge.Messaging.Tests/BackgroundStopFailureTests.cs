using System.Net;
using System.Net.Sockets;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// A transport stop whose caller stopped waiting goes on in the background (<see cref="MosquittoTransport.StopAsync"/>);
/// until 2026-11-24 a failure of that stop reached nobody: no later stop or dispose need come, and a start discards it.
/// Since then it is logged (error 7071), and the stop still joins the network thread and ends Stopped.
/// </summary>
public sealed class BackgroundStopFailureTests
{
    private const int BackgroundStopFailedEvent = 7071; // Log.BackgroundStopFailed

    [Fact]
    public async Task StopAsync_CallerStopsWaitingAndTheStopThenFails_FailureLoggedAndTransportStopped()
    {
        // The stop's first step, the disposal of the supervisor timer, is held and then fails: the only step of the stop
        // that a test can make fail, standing for any failure of the stop after its caller has left.
        var clock = new FakeClockWhoseTimerFailsToDispose();
        var log = new MemoryLoggerFactory();
        var options = new MqttTransportOptions { Host = "127.0.0.1", Port = ClosedPort(), ClientId = "stop-bg", KeepAlive = TimeSpan.FromSeconds(5) };
        await using var transport = new MosquittoTransport(options, new Microsoft.Extensions.Logging.Logger<MosquittoTransport>(log), clock);
        transport.Start();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => transport.StopAsync(cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => transport.StopAsync(cancelled.Token)); // a second caller who leaves too
        clock.LetDisposalFail();

        await Waiting.UntilAsync(() => log.Count(BackgroundStopFailedEvent) > 0, "the background stop's failure logged");
        var entry = Assert.Single(log.WithEvent(BackgroundStopFailedEvent));
        Assert.Contains("MQTT stop-bg:", entry.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        Assert.Equal(FakeClockWhoseTimerFailsToDispose.Failure, entry.Exception.Message);
        await Waiting.UntilAsync(() => transport.State == MqttConnectionState.Stopped, "the transport stopped despite the failure");
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on: the transport's connects are refused, no broker is needed.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The system clock, whose timers' disposal waits for <see cref="LetDisposalFail"/> and then throws.</summary>
    private sealed class FakeClockWhoseTimerFailsToDispose : TimeProvider
    {
        public const string Failure = "simulated failure while disposing the supervisor timer";

        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void LetDisposalFail() => _release.TrySetResult();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            new FailingTimer(System.CreateTimer(callback, state, dueTime, period), _release.Task);

        private sealed class FailingTimer(ITimer inner, Task release) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

            public void Dispose() => inner.Dispose();

            public async ValueTask DisposeAsync()
            {
                await inner.DisposeAsync();
                await release;
                throw new InvalidOperationException(Failure);
            }
        }
    }
}

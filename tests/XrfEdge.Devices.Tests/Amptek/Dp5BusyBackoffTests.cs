using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Amptek;

/// <summary>
/// A DP5 answering ACK 0x0D "busy" (another interface in use, or FW6.08+ sequential buffering; guide rev A7 Table 3).
/// Review (branch devices-gaps2): busy replies were retried at once, so a busy spell of a few milliseconds used up every
/// attempt. The session now backs off (10, 20, 40 … ms, at most 500 ms a wait, 2.5 s in all) on a fake clock: these
/// tests advance it only when the session has started a back-off wait, and assert on attempts and outcome.
/// </summary>
public sealed class Dp5BusyBackoffTests
{
    /// <summary>A session on a fake clock talking to <paramref name="device"/> over a memory link.</summary>
    private static Dp5Session SessionOn(SimulatedDp5 device, FakeTimeProvider time, int maxAttempts, CancellationToken ct)
    {
        // A 5 s reply time-out, ten times the longest back-off step, so advancing the clock through a back-off never
        // reaches the deadline of the request sent after it.
        var profile = TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(5), maxAttempts: maxAttempts);
        return new Dp5Session("memory", connectToken =>
        {
            var (host, dev) = MemoryDuplexStream.CreatePair();
            _ = device.ServeAsync(dev, ct);
            return ValueTask.FromResult<Stream>(host);
        }, profile, time);
    }

    /// <summary>
    /// Waits for <paramref name="task"/>, advancing <paramref name="time"/> past each back-off wait once the session has
    /// started it (its <see cref="Dp5Session.BusyRetryCount"/> went up and its timer is armed; the reply deadline is
    /// disposed by then, so the only timer is the back-off's).
    /// </summary>
    private static async Task<T> DriveAsync<T>(Task<T> task, Dp5Session session, FakeTimeProvider time)
    {
        var advanced = 0;
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!task.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < giveUp, "the exchange neither finished nor started a back-off within 30 s");
            if (session.BusyRetryCount > advanced && time.PendingTimerCount > 0)
            {
                advanced++;
                time.Advance(Dp5Session.BusyBackoffLongestWait);
            }
            else
            {
                await Task.Delay(1);
            }
        }

        return await task;
    }

    [Fact]
    public async Task GetStatusAsync_BusyMoreTimesThanMaxAttempts_BacksOffAndSucceeds()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var time = new FakeTimeProvider();
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        device.AnswerBusy(5);

        // 3 attempts: the old code spent them on the first three busy replies and failed.
        await using var session = SessionOn(device, time, maxAttempts: 3, cts.Token);
        var status = await DriveAsync(session.GetStatusAsync(cts.Token), session, time);

        Assert.Equal(Dp5DeviceType.Dp5, status.DeviceType);
        Assert.Equal(5, device.BusyRepliesSent);
        Assert.Equal(6, device.RequestCount); // five answered busy, the sixth answered
        Assert.Equal(5, session.BusyRetryCount);
        Assert.Equal(5, session.RetryCount);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task GetStatusAsync_BusyReplies_EachLoggedRetryNamesTheDevice()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var time = new FakeTimeProvider();
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        device.AnswerBusy(2);
        var logger = new MessageLogger();
        var profile = TestProfiles.Fast(1024, replyTimeout: TimeSpan.FromSeconds(5), maxAttempts: 3);
        await using var session = new Dp5Session("/dev/xrf-mca", connectToken =>
        {
            var (host, dev) = MemoryDuplexStream.CreatePair();
            _ = device.ServeAsync(dev, cts.Token);
            return ValueTask.FromResult<Stream>(host);
        }, profile, time, logger);

        await DriveAsync(session.GetStatusAsync(cts.Token), session, time);

        // Until 2026-11-24 the retry events (6001-6003, 6014) named the request only; the device's path was missing.
        var busy = logger.Messages.Where(m => m.EventId == 6014).Select(m => m.Text).ToList();
        Assert.Equal(2, busy.Count);
        Assert.All(busy, text => Assert.StartsWith("/dev/xrf-mca answered ", text, StringComparison.Ordinal));
        await cts.CancelAsync();
    }

    /// <summary>Keeps every message logged, with its event id, at every level.</summary>
    private sealed class MessageLogger : Microsoft.Extensions.Logging.ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(int EventId, string Text)> _messages = new();

        public IReadOnlyList<(int EventId, string Text)> Messages => [.. _messages];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue((eventId.Id, formatter(state, exception)));
    }

    [Fact]
    public async Task GetStatusAsync_BusyForGood_FailsAfterTheBudgetNamingRequestAndWait()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var time = new FakeTimeProvider();
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        device.AnswerBusy(long.MaxValue);
        await using var session = SessionOn(device, time, maxAttempts: 3, cts.Token);

        var e = await Assert.ThrowsAsync<Dp5ProtocolException>(() => DriveAsync(session.GetStatusAsync(cts.Token), session, time));

        Assert.Equal(Dp5AckCode.Busy, e.AckCode);
        Assert.Contains("DP5 01/01", e.Message, StringComparison.Ordinal); // the status request (Dp5Packet.ToString)
        Assert.Contains("memory was still busy", e.Message, StringComparison.Ordinal);
        Assert.Contains("2500 ms of back-off", e.Message, StringComparison.Ordinal); // Dp5Session.BusyBackoffBudget, all spent

        // The documented schedule 10, 20, 40, 80, 160, 320, 500, 500, 500 and the 370 ms left of 2.5 s: ten waits, so the
        // request went out eleven times.
        Assert.Equal(10, session.BusyRetryCount);
        Assert.Equal(11, device.BusyRepliesSent);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task GetStatusAsync_CancelledDuringBusyBackoff_ThrowsCanceledAndSendsNoMore()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var time = new FakeTimeProvider();
        var device = new SimulatedDp5(new SimulatedDp5Options(), new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        device.AnswerBusy(long.MaxValue);
        await using var session = SessionOn(device, time, maxAttempts: 3, cts.Token);

        var exchange = session.GetStatusAsync(caller.Token);
        while (session.BusyRetryCount == 0 || time.PendingTimerCount == 0)
        {
            Assert.False(exchange.IsCompleted, "the exchange ended before its first back-off");
            await Task.Delay(1, cts.Token);
        }

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exchange);
        Assert.Equal(1, device.BusyRepliesSent);
        Assert.Equal(1, session.BusyRetryCount);
        await cts.CancelAsync();
    }
}

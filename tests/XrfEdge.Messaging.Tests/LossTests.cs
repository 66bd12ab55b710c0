using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The issue's loss test: 2,000 measurements published from the outbox by a child process while the broker is killed
/// (SIGTERM) and restarted ≥ 10 times and the publisher is SIGKILLed and restarted ≥ 3 times, at random points of
/// progress. The subscriber (persistent 3.1.1 session on a broker that persists every change) must see every msg_id at
/// least once, and the de-duplicated set must be exactly the 2,000; duplicates are reported.
/// Why SIGTERM for the broker: mosquitto acknowledges a message before its persistence snapshot is written, so a SIGKILL
/// can destroy a message the broker has already acknowledged; measured, not assumed (docs/mqtt.md, "Loss test"). No
/// client can prevent that, so a SIGKILLed broker would test mosquitto, not the outbox. SIGTERM still stops the broker
/// mid-exchange: packets it has not read are dropped unanswered and must be sent again by the outbox.
/// </summary>
public sealed class LossTests(ITestOutputHelper output) : IDisposable
{
    private const int Count = 2000;         // issue 7, "Loss test: 2,000 measurements"
    private const int BrokerKills = 10;     // "killed and restarted at random moments ≥ 10 times"
    private const int PublisherKills = 3;   // "kill -9-ed and restarted ≥ 3 times"

    private static bool HardKillBroker => Environment.GetEnvironmentVariable("XRFEDGE_TEST_LOSS_BROKER_SIGNAL") == "KILL";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-loss-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Outbox_BrokerAndPublisherKilledRepeatedly_EveryMeasurementDeliveredExactlyOnceAfterDedup()
    {
        Directory.CreateDirectory(_directory);
        var database = Path.Combine(_directory, "outbox.db");

        // Fixed seed: the chaos schedule is random but reproducible.
        var random = new Random(20261121);
        var schedule = Enumerable.Range(0, BrokerKills).Select(_ => (Threshold: random.Next(40, Count - 100), Broker: true))
            .Concat(Enumerable.Range(0, PublisherKills).Select(_ => (Threshold: random.Next(40, Count - 100), Broker: false)))
            .OrderBy(e => e.Threshold)
            .ToList();

        using var broker = MosquittoBroker.Started(persistence: true);
        await using var subscriber = await TestSubscriber.ConnectAsync(broker, "xrf/v1/loss/dev1/detections", clientId: "loss-subscriber", protocol: MqttProtocolVersion.V311, cleanSession: false);

        var byMeasurement = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var msgIds = new HashSet<string>(StringComparer.Ordinal);
        var processed = 0;
        var total = 0;
        int Unique()
        {
            foreach (var message in subscriber.Received.Skip(processed))
            {
                processed++;
                total++;
                using var document = JsonDocument.Parse(message.Payload);
                var measurement = document.RootElement.GetProperty("measurement_id").GetString()!;
                var msgId = document.RootElement.GetProperty("msg_id").GetString()!;
                msgIds.Add(msgId);
                if (!byMeasurement.TryGetValue(measurement, out var ids))
                {
                    byMeasurement[measurement] = ids = [];
                }

                ids.Add(msgId);
            }

            return msgIds.Count;
        }

        ChildProcess child = null!;
        var restartsUnixSeconds = new List<long>();
        async Task WaitOrExplainAsync(Func<bool> condition, double seconds, string what)
        {
            try
            {
                await subscriber.WaitUntilAsync(condition, seconds);
            }
            catch (TimeoutException)
            {
                var missing = Enumerable.Range(0, Count).Select(i => $"L-{i:D5}").Where(id => !byMeasurement.ContainsKey(id)).Take(10);
                var (stats, _) = XrfEdge.Messaging.Outbox.SqliteOutbox.Inspect(database);

                // The broker's log can be long (XRFEDGE_TEST_BROKER_LOG=all): keep it in a file that outlives the test.
                var logFile = Path.Combine(Path.GetTempPath(), $"xrfedge-loss-failure-{Guid.NewGuid():N}.log");
                var ranges = MissingRanges(Enumerable.Range(0, Count).Where(i => !byMeasurement.ContainsKey($"L-{i:D5}")));
                File.WriteAllText(logFile, $"missing: {ranges}\nbroker restarts (unix s): {string.Join(", ", restartsUnixSeconds)}\nbroker log:\n{broker.Log}\nchild output:\n{child.Output}\n");
                throw new TimeoutException(
                    $"waiting for {what}: {msgIds.Count} unique after {seconds} s; first missing: {string.Join(", ", missing)}; outbox depth {stats?.Depth}; " +
                    $"subscriber {subscriber.Transport.State}; broker log and child output in {logFile}");
            }
        }

        string[] ChildArgs() => ["loss-publisher", database, broker.Port.ToString(CultureInfo.InvariantCulture), Count.ToString(CultureInfo.InvariantCulture)];
        child = new ChildProcess(ChildArgs());
        var brokerKills = 0;
        var publisherKills = 0;
        try
        {
            foreach (var (threshold, isBroker) in schedule)
            {
                await WaitOrExplainAsync(() => Unique() >= threshold, 90, $"threshold {threshold}");
                if (isBroker)
                {
                    // Diagnosis only (docs/mqtt.md, "Loss test"): XRFEDGE_TEST_LOSS_BROKER_SIGNAL=KILL brings back the SIGKILL
                    // that mosquitto's own persistence cannot survive, so this variant is expected to fail now and then.
                    if (HardKillBroker)
                    {
                        broker.Kill();
                    }
                    else
                    {
                        broker.Terminate();
                    }

                    broker.Start();
                    restartsUnixSeconds.Add(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
                    brokerKills++;
                }
                else
                {
                    child.KillHard();
                    child.Dispose();
                    child = new ChildProcess(ChildArgs());
                    publisherKills++;
                }
            }

            await WaitOrExplainAsync(() => Unique() >= Count, 120, "all measurements");
            await child.WaitForLineAsync("DRAINED", 60);
        }
        finally
        {
            child.Dispose();
        }

        Unique();
        var duplicates = total - msgIds.Count;
        output.WriteLine($"loss test: {Count} measurements, broker kills ({(HardKillBroker ? "SIGKILL" : "SIGTERM")}) {brokerKills}, publisher SIGKILLs {publisherKills}, received {total}, unique msg_id {msgIds.Count}, duplicates {duplicates}");
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "xrfedge-loss-report.txt"), $"measurements={Count} broker_kills={brokerKills} publisher_kills={publisherKills} received={total} unique={msgIds.Count} duplicates={duplicates}\n");

        Assert.Equal(BrokerKills, brokerKills);
        Assert.Equal(PublisherKills, publisherKills);
        Assert.Equal(Count, msgIds.Count);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"L-{i:D5}").ToHashSet(), byMeasurement.Keys.ToHashSet());

        // A redelivery repeats the same msg_id; a measurement never gets two different ids (no double enqueue).
        Assert.All(byMeasurement.Values, ids => Assert.Single(ids));
    }

    /// <summary>Sorted indices → "a-b, c, d-e" (the failure file's list of missing measurements).</summary>
    private static string MissingRanges(IEnumerable<int> indices)
    {
        var parts = new List<string>();
        int? start = null, last = null;
        foreach (var i in indices)
        {
            if (last is { } l && i == l + 1)
            {
                last = i;
                continue;
            }

            if (start is { } s0)
            {
                parts.Add(s0 == last ? $"{s0}" : $"{s0}-{last}");
            }

            start = last = i;
        }

        if (start is { } s1)
        {
            parts.Add(s1 == last ? $"{s1}" : $"{s1}-{last}");
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}

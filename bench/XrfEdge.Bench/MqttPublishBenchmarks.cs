using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Bench;

/// <summary>
/// Outbox → mosquitto (loopback) at QoS 1, rows deleted only on PUBACK: sustained end-to-end rate (measurements enqueued
/// with fsync while the publisher drains) and the drain time of a 100,000-row backlog (after a week offline), for the
/// in-flight windows 10 (default) and 50.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
#pragma warning disable CA1001 // BenchmarkDotNet disposes through [GlobalCleanup].
public class MqttPublishBenchmarks
#pragma warning restore CA1001
{
    private const int SustainedCount = 2000;
    private const int BacklogRows = 100_000;

    private readonly TopicTree _topics = new("bench", "XRF-0001");
    private MqttBenchmarkBroker _broker = null!;
    private string _directory = string.Empty;
    private SqliteOutbox _outbox = null!;
    private MosquittoTransport _transport = null!;
    private DetectionPublisher _publisher = null!;
    private MeasurementResult _result = null!;
    private long _next;

    [Params(10, 50)]
    public int Window { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _broker = new MqttBenchmarkBroker();
        _directory = Path.Combine(Path.GetTempPath(), "xrfedge-bench-pub-" + Guid.NewGuid().ToString("N")[..8]);
        _outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db"), MaxBytes = 4L * 1024 * 1024 * 1024 });
        _transport = new MosquittoTransport(new MqttTransportOptions { Host = "127.0.0.1", Port = _broker.Port, ClientId = "bench-" + Window, InFlightWindow = Window });
        _publisher = new DetectionPublisher(_transport, _outbox, _topics, new PublisherOptions { Window = Window, HealthInterval = TimeSpan.FromHours(1) });
        _publisher.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        _transport.WaitConnectedAsync(CancellationToken.None).GetAwaiter().GetResult();
        _result = BenchData.Measurement("M-0");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _publisher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _transport.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _outbox.Dispose();
        _broker.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "Sustained: 2,000 measurements enqueued (fsync each) and PUBACKed", OperationsPerInvoke = SustainedCount)]
    public void Sustained()
    {
        var target = _publisher.SentTotal + SustainedCount;
        for (var i = 0; i < SustainedCount; i++)
        {
            _publisher.Enqueue(_result with { MeasurementId = $"S-{Window}-{++_next}" });
        }

        WaitForSent(target);
    }

    [IterationSetup(Target = nameof(DrainBacklog))]
    public void FillBacklog()
    {
        // Bulk-insert the backlog in one transaction (as a week offline would have left it, row by row).
        var payload = DetectionPayload.Build(_result, new OutboxStamp(1, Guid.CreateVersion7(), DateTimeOffset.UtcNow), _topics);
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "outbox.db")};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO outbox(msg_id, kind, topic, qos, retain, content_type, payload, created_utc) VALUES ($m, 4, $t, 1, 0, 'application/json', $p, $c)";
        var msg = insert.Parameters.Add("$m", SqliteType.Text);
        insert.Parameters.AddWithValue("$t", _topics.Detections);
        insert.Parameters.AddWithValue("$p", payload);
        insert.Parameters.AddWithValue("$c", DateTimeOffset.UtcNow.AddDays(-7).ToUnixTimeMilliseconds());
        for (var i = 0; i < BacklogRows; i++)
        {
            msg.Value = Guid.CreateVersion7().ToString();
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    [Benchmark(Description = "Drain a 100,000-row backlog", OperationsPerInvoke = BacklogRows)]
    public void DrainBacklog() => WaitForSent(_publisher.SentTotal + BacklogRows);

    private void WaitForSent(long target)
    {
        while (_publisher.SentTotal < target)
        {
            Thread.Sleep(1);
        }
    }
}

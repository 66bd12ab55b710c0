using System.Text.Json;
using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>
/// The MQTT result publisher over a real SQLite outbox whose file cap (SQLite max_page_count) fills like a full disk:
/// a failed store must leave nothing changed in memory, because the publishing stage retries it with the same result.
/// </summary>
public sealed class ResultStoreTests : IDisposable
{
    private const long FileCap = 256 * 1024;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-store-" + Guid.NewGuid().ToString("N")[..12]);

    public ResultStoreTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string OutboxPath => Path.Combine(_directory, "outbox.db");

    [Fact]
    public async Task ScanChunk_CommitFailsOnFullDiskAndIsRetried_EveryPointStoredOnce()
    {
        await using var publisher = Create();
        FillUntilFull(publisher);
        var started = DateTimeOffset.UtcNow;
        for (int i = 0; i < MqttResultPublisher.ScanChunkPoints - 1; i++)
        {
            await publisher.StoreAsync(Point("S-1", i, started), CancellationToken.None); // held in memory, no commit yet
        }

        var last = Point("S-1", MqttResultPublisher.ScanChunkPoints - 1, started);
        for (int retry = 0; retry < 3; retry++)
        {
            var error = await Assert.ThrowsAsync<IOException>(async () => await publisher.StoreAsync(last, CancellationToken.None));
            Assert.Contains(OutboxPath, error.Message, StringComparison.Ordinal);
        }

        FreeSpace();
        await publisher.StoreAsync(last, CancellationToken.None); // the publishing stage's next retry

        var indexes = ReadPoints("S-1");
        Assert.Equal(MqttResultPublisher.ScanChunkPoints, indexes.Count); // was 1003: the point went in once per attempt
        Assert.Equal(Enumerable.Range(0, MqttResultPublisher.ScanChunkPoints).Select(i => (long)i), indexes.Order());
    }

    [Fact]
    public async Task ScanSummary_CommitFailsOnFullDiskAndIsRetried_LastPointsAndSummaryStored()
    {
        await using var publisher = Create();
        FillUntilFull(publisher);
        var started = DateTimeOffset.UtcNow;
        for (int i = 0; i < 200; i++)
        {
            await publisher.StoreAsync(Point("S-2", i, started), CancellationToken.None); // ~6 KB of points: more than is left
        }

        var summary = new ScanSummary("S-2", started, started.AddSeconds(5), 200, 0, false, new Dictionary<string, long>());
        await Assert.ThrowsAsync<IOException>(async () => await publisher.StoreScanSummaryAsync(summary, CancellationToken.None));
        FreeSpace();
        await publisher.StoreScanSummaryAsync(summary, CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), ReadPoints("S-2").Order()); // were dropped: taken from memory before the failed commit
        Assert.Single(Rows(), r => r.Topic.EndsWith("/scans/summary", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Store_OutboxDamagedWhileOpen_ThrowsOutboxCorruptExceptionNotTheFullDiskError()
    {
        // The publishing stage retries an IOException as a full disk; damage must reach it as its own type. Before, the
        // SqliteException (SQLITE_CORRUPT) was wrapped into a plain IOException like SQLITE_FULL.
        await using var publisher = Create();
        var now = DateTimeOffset.UtcNow;
        await publisher.StoreAsync(new MeasurementResult("M-1", MeasurementMode.Triggered, now, now, null, null, MeasurementOutcome.Aborted, "before"), CancellationToken.None);
        DamageOutboxTable();

        var error = await Assert.ThrowsAsync<OutboxCorruptException>(async () =>
            await publisher.StoreAsync(new MeasurementResult("M-2", MeasurementMode.Triggered, now, now, null, null, MeasurementOutcome.Aborted, "after"), CancellationToken.None));
        Assert.Equal(OutboxPath, error.DatabasePath);
        Assert.Equal(11, ((SqliteException)error.InnerException!).SqliteErrorCode & 0xFF); // SQLITE_CORRUPT, sqlite.org/rescode.html
    }

    private void DamageOutboxTable() => XrfEdge.Messaging.Tests.Support.OutboxDamage.DamageOutboxTable(OutboxPath);

    [Fact]
    public async Task Create_ResultRetentionMegabytesFromTheProfile_ReachesTheOutbox()
    {
        long seen = 0;
        await using (Create(settings => settings.Outbox.ResultRetentionMegabytes = 7, o => seen = o.ResultRetentionBytes))
        {
        }

        Assert.Equal(7L * 1024 * 1024, seen);
    }

    private MqttResultPublisher Create(Action<ServiceSettings>? configure = null, Action<XrfEdge.Messaging.Outbox.OutboxOptions>? inspect = null)
    {
        var settings = new ServiceSettings();
        settings.Mqtt.DeviceId = "XRF-TEST-1";
        settings.Mqtt.Port = 1; // never started: these tests exercise the outbox side only
        settings.Outbox.Path = OutboxPath;
        configure?.Invoke(settings);
        return Fakes.StandalonePublisher.Create(settings, tuneOutbox: o =>
        {
            inspect?.Invoke(o);
            o.MaxFileBytes = FileCap;
        });
    }

    /// <summary>Stores measurement events of 16 KiB, then of 1 KiB, until the outbox refuses them: less than ~1 KiB is left.</summary>
    private static void FillUntilFull(MqttResultPublisher publisher)
    {
        int stored = 0;
        foreach (int size in new[] { 16 * 1024, 1024 })
        {
            for (bool full = false; !full;)
            {
                var now = DateTimeOffset.UtcNow;
                var aborted = new MeasurementResult($"M-fill-{stored}", MeasurementMode.Triggered, now, now, null, null, MeasurementOutcome.Aborted, new string('x', size));
                try
                {
                    publisher.StoreAsync(aborted, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    Assert.True(++stored < 1000, "the outbox never filled");
                }
                catch (IOException)
                {
                    full = true;
                }
            }
        }

        Assert.True(stored > 3, $"the outbox refused after only {stored} rows");
    }

    private static MeasurementResult Point(string scan, long index, DateTimeOffset started) =>
        new($"M-{scan}-{index}", MeasurementMode.Scan, started, started, null, null, MeasurementOutcome.Completed, null, scan, index);

    /// <summary>What an operator (or the drain) does: the queued events go, their pages become free.</summary>
    private void FreeSpace()
    {
        using var connection = new SqliteConnection($"Data Source={OutboxPath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM outbox WHERE topic LIKE '%/events'";
        Assert.True(command.ExecuteNonQuery() > 0);
    }

    private List<(string Topic, byte[] Payload)> Rows() => XrfEdge.Messaging.Tests.Support.OutboxFile.Rows(OutboxPath);

    private List<long> ReadPoints(string scan)
    {
        var indexes = new List<long>();
        foreach (var (topic, payload) in Rows().Where(r => r.Topic.EndsWith("/scans/points", StringComparison.Ordinal)))
        {
            using var json = JsonDocument.Parse(payload);
            if (json.RootElement.GetProperty("scan_id").GetString() == scan)
            {
                indexes.AddRange(json.RootElement.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("i").GetInt64()));
            }
        }

        return indexes;
    }
}

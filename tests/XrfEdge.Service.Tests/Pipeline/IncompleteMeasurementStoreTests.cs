using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.EndToEnd;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra.Identification;
using InstrumentStatus = XrfEdge.Service.Hosting.InstrumentStatus;
using MeasurementResult = XrfEdge.Service.Pipeline.MeasurementResult;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>
/// A measurement whose spectrum was acquired but which did not complete (analysis failed, acquisition aborted after
/// data came in) keeps its spectrum: the service commits it with the <c>events</c> row, <c>get_spectrum</c> answers for
/// it, detections' seq is untouched, and the stored rows stay within the result retention bounds. Until 2026-11-23 only
/// the event was stored, with <c>spectrum_available: true</c>, and <c>get_spectrum</c> answered "No stored spectrum".
/// </summary>
public sealed class IncompleteMeasurementStoreTests : IDisposable
{
    private const string Device = "XRF-TEST-1";
    private const string Root = $"xrf/v1/default/{Device}";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("xrfedge-incomplete-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string OutboxPath => Path.Combine(_directory, "outbox.db");

    [EndToEndFact]
    public async Task AnalysisFailed_ThroughTheHostAndARealBroker_EventSaysAvailableAndGetSpectrumReturnsTheCounts()
    {
        using var broker = new MosquittoBroker();
        var replyTopic = "xrf/v1/default/_ops/test/resp";
        using var subscriber = new MqttSubscriber(broker.Port, "incomplete-sub", $"{Root}/events", $"{Root}/detections", $"{Root}/spectrum/#", replyTopic);
        var fakes = new FakeComponents { Analyzer = new FakeAnalyzer("Fe") { Fail = _ => new InvalidOperationException("no valid model loaded") } };
        var settings = FakeComponents.Settings(gpio: false);
        settings.Mqtt.Port = broker.Port;
        settings.Outbox.Path = OutboxPath;
        string id;
        using (var host = ServiceHostFactory.Build(settings, new ConfigurationBuilder().Build(), new MqttComponents(fakes), services => services.AddLogging(l => l.ClearProviders())))
        {
            await host.StartAsync();
            host.Services.GetRequiredService<MeasurementControl>().RequestStart("test");
            Assert.True(subscriber.WaitUntil(m => m.Any(x => x.Topic == $"{Root}/events"), TimeSpan.FromSeconds(30)), "no event arrived");
            using (var published = JsonDocument.Parse(subscriber.Messages.First(x => x.Topic == $"{Root}/events").Payload))
            {
                id = published.RootElement.GetProperty("measurement_id").GetString()!;
                Assert.Equal("failed", published.RootElement.GetProperty("outcome").GetString());
                Assert.Contains("no valid model loaded", published.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
                Assert.True(published.RootElement.GetProperty("spectrum_available").GetBoolean());
            }

            // The device subscribes to its commands once connected; ask again (a fresh command id) until it answers.
            for (var i = 0; i < 20 && !subscriber.WaitUntil(m => m.Any(x => x.Topic == replyTopic && !x.Payload.Contains("\"accepted\"", StringComparison.Ordinal)), TimeSpan.FromSeconds(1)); i++)
            {
                broker.Publish($"{Root}/cmd/get_spectrum", $$"""{"command_id":"spec-{{i.ToString(CultureInfo.InvariantCulture)}}","measurement_id":"{{id}}"}""", replyTopic);
            }

            var reply = subscriber.Messages.First(x => x.Topic == replyTopic && !x.Payload.Contains("\"accepted\"", StringComparison.Ordinal)).Payload;
            Assert.Contains("\"status\":\"completed\"", reply, StringComparison.Ordinal); // was "failed": No stored spectrum
            Assert.True(subscriber.WaitUntil(m => m.Any(x => x.Topic == $"{Root}/spectrum/{id}"), TimeSpan.FromSeconds(20)), "the spectrum was not published");
            Assert.DoesNotContain(subscriber.Messages, m => m.Topic == $"{Root}/detections");
            await host.StopAsync();
        }

        // The process is gone: the counts are still in the outbox file, as the protobuf get_spectrum sends.
        using var reopened = SqliteOutbox.Open(new XrfEdge.Messaging.Outbox.OutboxOptions { DatabasePath = OutboxPath });
        Assert.Equal(FakeSpectrumSource.Spectrum(id).Counts, SpectrumPayload.Decode(reopened.TryGetSpectrum(id)!).Counts);
        Assert.Equal(0, reopened.GetStatistics().LastSeq); // no detection, no seq
    }

    [Fact]
    public async Task FailedWithSpectrum_OutboxReopened_SpectrumStoredAsTheSameProtobufAsACompletedOne()
    {
        var failed = Failed("M-F1");
        await using (var publisher = Create())
        {
            await publisher.StoreAsync(failed, CancellationToken.None);
        }

        using var reopened = SqliteOutbox.Open(new XrfEdge.Messaging.Outbox.OutboxOptions { DatabasePath = OutboxPath });
        Assert.Equal(SpectrumPayload.Encode("M-F1", Device, failed.Spectrum!, Start), reopened.TryGetSpectrum("M-F1"));
        var row = Assert.Single(reopened.ReadBatch(0, 10));
        Assert.Equal($"{Root}/events", row.Topic);
        Assert.Equal(row.Payload, reopened.TryGetResult("M-F1"));
        Assert.True(Event(row.Payload).GetProperty("spectrum_available").GetBoolean());
    }

    [Fact]
    public async Task FailedInterleavedWithCompleted_DetectionSeqGaplessAndEveryFailedSpectrumFetchable()
    {
        // docs/mqtt.md §1: detections' seq grows by exactly one per measurement, a gap means eviction. The failed
        // measurements between them must take no seq, and yet keep their spectra.
        string[] order = ["C1", "F1", "F2", "C2", "A1", "F3", "C3", "F4"];
        await using (var publisher = Create())
        {
            foreach (var id in order)
            {
                await publisher.StoreAsync(
                    id[0] switch
                    {
                        'C' => Completed(id),
                        'F' => Failed(id),
                        _ => Aborted(id),
                    },
                    CancellationToken.None);
            }
        }

        var rows = Rows();
        var detections = rows.Where(r => r.Topic == $"{Root}/detections").Select(r => Event(r.Payload)).ToList();
        Assert.Equal([1L, 2L, 3L], detections.Select(d => d.GetProperty("seq").GetInt64()));
        Assert.Equal(["C1", "C2", "C3"], detections.Select(d => d.GetProperty("measurement_id").GetString()));
        Assert.Equal(5, rows.Count(r => r.Topic == $"{Root}/events"));

        using var reopened = SqliteOutbox.Open(new XrfEdge.Messaging.Outbox.OutboxOptions { DatabasePath = OutboxPath });
        Assert.Equal(3, reopened.GetStatistics().LastSeq);
        foreach (var id in order.Where(i => i[0] != 'A'))
        {
            Assert.Equal(FakeSpectrumSource.Spectrum(id).Counts, SpectrumPayload.Decode(reopened.TryGetSpectrum(id)!).Counts);
        }

        Assert.Null(reopened.TryGetSpectrum("A1"));
    }

    [Fact]
    public async Task LongRunOfFailed_SmallResultRetentionCount_PrunedToTheNewestRows()
    {
        // 5 rows, arbitrary; 60 failed measurements after one completed (e.g. a broken model file for an afternoon).
        await using (var publisher = Create(o => o.ResultRetention = 5))
        {
            await publisher.StoreAsync(Completed("C0"), CancellationToken.None);
            for (var i = 1; i <= 60; i++)
            {
                await publisher.StoreAsync(Failed($"F{i}"), CancellationToken.None);
            }
        }

        Assert.Equal(["F56", "F57", "F58", "F59", "F60"], StoredResults().Select(r => r.Id));
    }

    [Fact]
    public async Task LongRunOfFailed_SmallResultRetentionByteCap_PrunedUnderTheCapOldestFirst()
    {
        // One stored row here: FakeSpectrumSource's 2048 channels of 10 counts (one varint byte each) plus header, and
        // the event (~300 bytes), ≈ 2.4 KB; a 10,000-byte cap keeps 3 or 4 of them, well below the 10,000-row count.
        const long Cap = 10_000;
        await using (var publisher = Create(o => o.ResultRetentionBytes = Cap))
        {
            for (var i = 1; i <= 60; i++)
            {
                await publisher.StoreAsync(Failed($"F{i}"), CancellationToken.None);
                var stored = StoredResults();
                Assert.InRange(stored.Sum(r => r.Bytes), 1, Cap);
                Assert.Equal($"F{i}", stored[^1].Id); // the newest is always kept
            }
        }

        var kept = StoredResults();
        Assert.InRange(kept.Count, 3, 4);
        Assert.Equal(Enumerable.Range(61 - kept.Count, kept.Count).Select(i => $"F{i}"), kept.Select(r => r.Id)); // the oldest went first
    }

    [Fact]
    public async Task IncompleteResults_WithAndWithoutSpectrum_SpectrumAvailableTrueExactlyWhenStored()
    {
        var now = Start;
        await using (var publisher = Create())
        {
            await publisher.StoreAsync(Aborted("A-none"), CancellationToken.None); // stopped before any data came in
            await publisher.StoreAsync(new MeasurementResult("F-none", MeasurementMode.Triggered, now, now, null, null, MeasurementOutcome.Failed, "MCA timeout"), CancellationToken.None);
            await publisher.StoreAsync(Failed("F-with"), CancellationToken.None);
            await publisher.StoreAsync(Aborted("A-with") with { Spectrum = FakeSpectrumSource.Spectrum("A-with") }, CancellationToken.None); // aborted after data came in
        }

        using var reopened = SqliteOutbox.Open(new XrfEdge.Messaging.Outbox.OutboxOptions { DatabasePath = OutboxPath });
        foreach (var (_, payload) in Rows())
        {
            var errors = XrfEdge.Messaging.Tests.Support.MiniJsonSchema.Validate("measurement-event.schema.json", payload);
            Assert.True(errors.Count == 0, string.Join("; ", errors));
            var e = Event(payload);
            var id = e.GetProperty("measurement_id").GetString()!;
            Assert.Equal(reopened.TryGetSpectrum(id) is not null, e.GetProperty("spectrum_available").GetBoolean());
            Assert.Equal(id.EndsWith("-with", StringComparison.Ordinal), e.GetProperty("spectrum_available").GetBoolean());
        }

        Assert.Equal(4, Rows().Count);
    }

    private static MeasurementResult Completed(string id) => new(
        id, MeasurementMode.Triggered, Start, Start.AddSeconds(1), FakeSpectrumSource.Spectrum(id),
        new Identification
        {
            SpectrumId = id,
            Elements = [new ElementDetection("Fe", 26, 0.9f, ["Fe-KL3"])],
            Lines = [],
            LineProbabilities = [],
            Model = new ModelIdentity("m", "1", "ab", "int8"),
        },
        MeasurementOutcome.Completed);

    /// <summary>What AnalysisWorker makes of a batch the analyzer could not identify: the spectrum kept, no identification.</summary>
    private static MeasurementResult Failed(string id) =>
        new(id, MeasurementMode.Triggered, Start, Start.AddSeconds(1), FakeSpectrumSource.Spectrum(id), null, MeasurementOutcome.Failed, "analysis failed: no valid model loaded");

    private static MeasurementResult Aborted(string id) =>
        new(id, MeasurementMode.Triggered, Start, Start.AddSeconds(1), null, null, MeasurementOutcome.Aborted, "stop command");

    private static JsonElement Event(byte[] payload) => JsonDocument.Parse(payload).RootElement.Clone();

    private MqttResultPublisher Create(Action<XrfEdge.Messaging.Outbox.OutboxOptions>? tune = null)
    {
        var settings = new ServiceSettings();
        settings.Mqtt.DeviceId = Device;
        settings.Mqtt.Port = 1; // never started: these tests look at what is committed
        settings.Outbox.Path = OutboxPath;
        return StandalonePublisher.Create(settings, tuneOutbox: tune);
    }

    private List<(string Topic, byte[] Payload)> Rows() => OutboxFile.Rows(OutboxPath);

    private List<(string Id, long Bytes)> StoredResults() => OutboxFile.StoredResults(OutboxPath);

}

using BenchmarkDotNet.Attributes;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Topics;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Bench;

/// <summary>
/// Outbox insert latency: one measurement (detection JSON for a 4096-channel spectrum with 12 lines, plus the spectrum
/// protobuf) committed with WAL + synchronous=FULL, i.e. including the fsync that makes it power-loss durable.
/// </summary>
[MemoryDiagnoser]
public class OutboxBenchmarks
{
    private readonly TopicTree _topics = new("bench", "XRF-0001");
    private string _directory = string.Empty;
    private SqliteOutbox _outbox = null!;
    private MeasurementResult _result = null!;
    private byte[] _spectrum = [];
    private long _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "xrfedge-bench-outbox-" + Guid.NewGuid().ToString("N")[..8]);
        _outbox = SqliteOutbox.Open(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
        _result = BenchData.Measurement("M-0");
        _spectrum = SpectrumPayload.Encode("M-0", _topics.Device, _result.Spectrum, null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _outbox.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "EnqueueMeasurement (build JSON + commit with fsync)")]
    public long EnqueueMeasurement()
    {
        var id = $"M-{++_next}";
        var result = _result with { MeasurementId = id };
        return _outbox.EnqueueMeasurement(new MeasurementRecord(id, _spectrum), stamp =>
            [new OutboxMessage { Kind = OutboxKind.Detection, Topic = _topics.Detections, Payload = DetectionPayload.Build(result, stamp, _topics) }]).RowId;
    }
}

/// <summary>A realistic measurement: 4096 channels at 10 eV, 12 reported lines over 6 elements.</summary>
internal static class BenchData
{
    public static MeasurementResult Measurement(string id)
    {
        var catalog = LineCatalog.Default;
        var lines = catalog.Lines.Where(l => l.Element is "Fe" or "Cr" or "Ni" or "Mn" or "Cu" or "Mo").Take(12).Select(l => new LineDetection(l, 0.97f)).ToList();
        var random = new Random(1);
        return new MeasurementResult
        {
            MeasurementId = id,
            Spectrum = new RawSpectrum
            {
                Id = id,
                Counts = [.. Enumerable.Range(0, 4096).Select(_ => (long)random.Next(0, 5000))],
                Calibration = new EnergyCalibration(-0.955, 0.01),
                LiveTime = TimeSpan.FromSeconds(28.7),
                RealTime = TimeSpan.FromSeconds(30),
                Excitation = new Excitation("Rh", 40, 25),
            },
            Identification = new Identification
            {
                SpectrumId = id,
                Lines = lines,
                Elements = [.. lines.GroupBy(l => l.Line.Element).Select(g => new ElementDetection(g.Key, g.First().Line.AtomicNumber, 0.98f, [.. g.Select(l => l.Line.Name)]))],
                LineProbabilities = new float[catalog.Lines.Count],
                Model = new ModelIdentity("xrf-line-encoder", "1.0.0", new string('a', 64), "int8"),
            },
            Preset = TimeSpan.FromSeconds(30),
            Mode = "alloy",
        };
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra;

namespace XrfEdge.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/XrfEdge.Bench -- reanalysis ROWS INTERVAL_MS [LIVE] [SCENARIOS]</c>: the
/// live measurement's latency — spectrum handed to the analysis stage (written to the acquisition → analysis channel)
/// until its result is committed to the outbox — with no backlog, and while <c>ReanalysisWorker</c> analyses ROWS
/// measurements stored without a model. The whole <c>xrfedge run</c> host (<see cref="ServiceHostFactory"/>) runs with
/// the real encoder (models/xrf-line-encoder.int8.onnx, <c>Model:MaxBatchSize</c> 256, 1 intra-op thread), the real
/// publisher over a real SQLite outbox file (WAL, synchronous=FULL) and no broker (port 1: the drain idles, as in the
/// field without a network). Live spectra come every INTERVAL_MS (0 = the next as soon as the previous is stored, a
/// live side that is never idle for long); with a backlog they go on until the pass ends, LIVE at least.
/// SCENARIOS: <c>idle</c>, <c>backlog</c> or <c>both</c> (default). Prints median/p95/max; nothing is asserted.
/// </summary>
internal static class ReanalysisProbe
{
    private const string LivePrefix = "M-LIVE-";

    public static int Run(string[] args)
    {
        int rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000;
        int intervalMs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 250;
        int live = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 40;
        string scenarios = args.Length > 4 ? args[4] : "both";
        string work = Directory.CreateTempSubdirectory("xrfedge-reanalysis-bench-").FullName;
        try
        {
            var spectra = BenchmarkSpectra.Create(64, seed: 7);
            Console.WriteLine($"model {BenchModels.Path("int8")}, load average {File.ReadAllText("/proc/loadavg").Trim()}, {Environment.ProcessorCount} CPUs");
            string template = Path.Combine(work, "template.db");
            var fill = Stopwatch.StartNew();
            FillAsync(template, rows, spectra).GetAwaiter().GetResult();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stored {rows} measurements without a model in {fill.Elapsed.TotalSeconds:F1} s"));
            if (scenarios is "idle" or "both")
            {
                RunScenarioAsync(work, template: null, rows: 0, intervalMs, live, spectra).GetAwaiter().GetResult();
            }

            if (scenarios is "backlog" or "both")
            {
                RunScenarioAsync(work, template, rows, intervalMs, live, spectra).GetAwaiter().GetResult();
            }

            Console.WriteLine($"load average at end {File.ReadAllText("/proc/loadavg").Trim()}");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static ServiceSettings Settings(string outbox)
    {
        var settings = new ServiceSettings();
        settings.Acquisition.Source = AcquisitionSource.Replay;
        settings.Acquisition.Mode = MeasurementMode.Triggered;
        settings.Model.Path = BenchModels.Path("int8");
        settings.Mqtt.Port = 1;
        settings.Mqtt.DeviceId = "XRF-BENCH";
        settings.Outbox.Path = outbox;
        settings.Gpio.Enabled = false;
        settings.Health.IntervalSeconds = 3600;
        return settings;
    }

    /// <summary>Stores <paramref name="rows"/> failed measurements as the service does while no model is loaded.</summary>
    private static async Task FillAsync(string path, int rows, RawSpectrum[] spectra)
    {
        var settings = Settings(path);
        await using var publisher = new MqttResultPublisher(settings, new InstrumentStatus(), new MeasurementControl(), () => true, new ServiceIdentity("bench", DateTimeOffset.UtcNow), NullLoggerFactory.Instance, TimeProvider.System);
        var started = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < rows; i++)
        {
            var at = started.AddSeconds(2 * i);
            string id = string.Create(CultureInfo.InvariantCulture, $"M-STORED-{i:D6}");
            await publisher.StoreAsync(new MeasurementResult(id, MeasurementMode.Triggered, at, at.AddSeconds(1), spectra[i % spectra.Length] with { Id = id }, null, MeasurementOutcome.Failed, ReanalysisWorker.ReasonPrefix + "model file 'm.onnx' is truncated", Preset: TimeSpan.FromSeconds(1)), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task RunScenarioAsync(string work, string? template, int rows, int intervalMs, int live, RawSpectrum[] spectra)
    {
        string db = Path.Combine(work, template is null ? "idle.db" : "backlog.db");
        if (template is not null)
        {
            File.Copy(template, db, overwrite: true);
        }

        var settings = Settings(db);
        var components = new BenchComponents();
        using var passEnd = new PassEndLogger();
        using var host = ServiceHostFactory.Build(settings, new ConfigurationBuilder().Build(), components, services => services.AddLogging(l =>
        {
            l.ClearProviders();
            l.SetMinimumLevel(LogLevel.Information);
            l.AddProvider(passEnd);
        }));
        var channels = host.Services.GetRequiredService<PipelineChannels>();
        var handed = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var latencies = new List<double>();
        long passStart = Stopwatch.GetTimestamp();
        await host.StartAsync().ConfigureAwait(false);
        var publisher = components.Publisher!;
        var request = new StartRequest("bench");
        for (int i = 0; ; i++)
        {
            // Not "Reanalysed < rows": each live result stored evicts the oldest stored row past Outbox:ResultRetention.
            bool passRunning = template is not null && !passEnd.Ended.IsCompleted;
            // 100,000: a pass that stopped (8078) never reaches ROWS; the probe must still end.
            if ((i >= live + (template is null ? 3 : 0) && !passRunning) || i >= 100_000)
            {
                break;
            }

            if (intervalMs > 0)
            {
                await Task.Delay(intervalMs).ConfigureAwait(false);
            }

            string id = string.Create(CultureInfo.InvariantCulture, $"{LivePrefix}{i:D6}");
            var spectrum = spectra[i % spectra.Length] with { Id = id };
            var now = DateTimeOffset.UtcNow;
            long t0 = Stopwatch.GetTimestamp();
            var stored = publisher.Expect(id);
            await channels.Spectra.Writer.WriteAsync(new PipelineItem.Spectrum(new AcquiredSpectrum(id, MeasurementMode.Triggered, now, now, spectrum, null, null, t0, TimeSpan.FromSeconds(1), request))).ConfigureAwait(false);
            long t1 = await stored.ConfigureAwait(false);
            // With a backlog only what overlapped the pass counts; without one the first 3 warm up (JIT, ORT's first run).
            if ((template is null && i >= 3) || passRunning)
            {
                latencies.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            }
        }

        double passSeconds = template is null ? 0 : Stopwatch.GetElapsedTime(passStart, await passEnd.Ended.ConfigureAwait(false)).TotalSeconds;
        await host.StopAsync().ConfigureAwait(false);
        latencies.Sort();
        string what = template is null ? "no backlog" : string.Create(CultureInfo.InvariantCulture, $"re-analysis of {rows} stored rows running");
        string every = intervalMs == 0 ? "0 (back to back)" : string.Create(CultureInfo.InvariantCulture, $"{intervalMs} ms");
        string pass = template is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; pass {publisher.Reanalysed} rows in {passSeconds:F1} s ({publisher.Reanalysed / passSeconds:F0} rows/s)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}, live every {every}: {latencies.Count} live measurements, handed to analysis → stored: median {Percentile(latencies, 0.5):F1} ms, p95 {Percentile(latencies, 0.95):F1} ms, max {latencies[^1]:F1} ms{pass}"));
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>Notes when the re-analysis pass ended: 8077 (done) or 8078 (stopped), the first after the start.</summary>
    private sealed class PassEndLogger : ILoggerProvider, ILogger
    {
        private readonly TaskCompletionSource<long> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<long> Ended => _ended.Task;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id is 8077 or 8078)
            {
                _ended.TrySetResult(Stopwatch.GetTimestamp());
                Console.WriteLine("  " + formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }

    private sealed class BenchComponents : IPipelineComponents
    {
        public TimingPublisher? Publisher { get; private set; }

        public ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services) => new NoSource();

        public ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services) =>
            new EncoderAnalyzer(settings.Model, settings.Decoder, NullLogger.Instance);

        public IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services) =>
            Publisher = new TimingPublisher(new ProductionComponents().CreatePublisher(settings, services));

        public IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services) => new NoInstrumentIo();
    }

    /// <summary>No measurement is started through acquisition: the probe hands spectra to analysis itself.</summary>
    private sealed class NoSource : ISpectrumSource
    {
        public string Description => "none (bench)";

        public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<RawSpectrum?> AcquireAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken) => Task.FromResult<RawSpectrum?>(null);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The real publisher; notes when each live result's store committed and counts re-analysed rows.</summary>
    private sealed class TimingPublisher(IResultPublisher inner) : ForwardingResultPublisher(inner)
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _expected = new(StringComparer.Ordinal);
        private int _reanalysed;

        public int Reanalysed => Volatile.Read(ref _reanalysed);

        public Task<long> Expect(string id) => _expected.GetOrAdd(id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;


        public override async ValueTask StoreAsync(MeasurementResult result, CancellationToken cancellationToken)
        {
            await Inner.StoreAsync(result, cancellationToken).ConfigureAwait(false);
            if (_expected.TryGetValue(result.MeasurementId, out var stored))
            {
                stored.TrySetResult(Stopwatch.GetTimestamp());
            }
        }

        public override async ValueTask StoreReanalysedAsync(ReanalysedMeasurement measurement, CancellationToken cancellationToken)
        {
            await Inner.StoreReanalysedAsync(measurement, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _reanalysed);
        }
    }
}

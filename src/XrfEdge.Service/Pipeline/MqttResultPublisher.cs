using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Commands;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Spectra;
using InstrumentStatus = XrfEdge.Service.Hosting.InstrumentStatus;
using MessagingResult = XrfEdge.Messaging.Payloads.MeasurementResult;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// The publishing stage over XrfEdge.Messaging: the SQLite outbox (WAL, synchronous=FULL) and the
/// <see cref="DetectionPublisher"/> on a libmosquitto transport, on the native topic tree <c>xrf/v1/{fleet}/{device}/…</c>.
/// <list type="bullet">
/// <item>Completed measurements → <c>detections</c> (one committed outbox transaction each, then QoS 1, deleted on PUBACK).</item>
/// <item>Aborted/failed measurements → <c>events</c> (<c>xrf.measurement-event/1</c>), also through the outbox, so an abort is never lost.</item>
/// <item>Scan points → <c>scans/points</c> in chunks of <see cref="ScanChunkPoints"/> points per committed row (one fsync
///   per point would cap a scan at a few hundred points/s), and the summary → <c>scans/summary</c>. Points not yet in a
///   committed chunk are lost on a crash mid-scan; the summary then never appears, which marks the scan incomplete.
///   A point whose analysis failed for want of a model or by ONNX Runtime is stored with its spectrum in its chunk's
///   transaction (since 2026-11-24) and re-published analysed later (<see cref="StoreReanalysedScanPointsAsync"/>).</item>
/// </list>
/// </summary>
internal sealed class MqttResultPublisher : IResultPublisher, IInstrumentCommandHandler
{
    /// <summary>Scan points per outbox row: 1000 points ≈ 60–100 KB of JSON, well below broker message limits.</summary>
    public const int ScanChunkPoints = 1000;

    private readonly ServiceSettings _settings;
    private readonly InstrumentStatus _status;
    private readonly MeasurementControl _control;
    private readonly Func<bool> _interlockClosed;
    private readonly ServiceIdentity _identity;
    private readonly TimeProvider _time;
    private readonly TopicTree _topics;
    private readonly SqliteOutbox _outbox;
    private readonly MosquittoTransport _transport;
    private readonly DetectionPublisher _publisher;
    private readonly ILogger _logger;
    private readonly Dictionary<string, List<MeasurementResult>> _scanPoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StartRequest> _scanRequests = new(StringComparer.Ordinal);
    private HealthReport? _lastHealth;
    private volatile RawSpectrum? _lastSpectrum;
    private int _stopped;

    public MqttResultPublisher(
        ServiceSettings settings,
        InstrumentStatus status,
        MeasurementControl control,
        Func<bool> interlockClosed,
        ServiceIdentity identity,
        ILoggerFactory loggers,
        TimeProvider time,
        Action<XrfEdge.Messaging.Outbox.OutboxOptions>? tuneOutbox = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _status = status;
        _control = control;
        _interlockClosed = interlockClosed;
        _identity = identity;
        _time = time;
        _logger = loggers.CreateLogger<MqttResultPublisher>();
        var mqtt = settings.Mqtt;
        _topics = new TopicTree(mqtt.Fleet, mqtt.DeviceId);
        var outboxOptions = new XrfEdge.Messaging.Outbox.OutboxOptions
        {
            DatabasePath = settings.Outbox.Path,
            MaxBytes = settings.Outbox.MaxMegabytes * 1024L * 1024L,
            MaxAge = TimeSpan.FromDays(settings.Outbox.MaxAgeDays),
            ResultRetentionBytes = settings.Outbox.ResultRetentionMegabytes * 1024L * 1024L,
            ReanalysisReasonPrefixes = [ReanalysisWorker.ReasonPrefix, ReanalysisWorker.RuntimeFailurePrefix], // health's awaiting_reanalysis, 7048
        };
        tuneOutbox?.Invoke(outboxOptions); // library options that are not profile keys (tests: a file cap that fills like a full disk)
        _outbox = SqliteOutbox.Open(outboxOptions, loggers.CreateLogger<SqliteOutbox>(), time);
        var transportOptions = TransportOptionsFor(settings);
        DetectionPublisher.ConfigureAvailability(transportOptions, _topics);
        _transport = new MosquittoTransport(transportOptions, loggers.CreateLogger<MosquittoTransport>(), time);
        _transport.StateChanged += (_, e) => _status.SetConnected(e.State == MqttConnectionState.Connected);
        _publisher = new DetectionPublisher(
            _transport,
            _outbox,
            _topics,
            PublisherOptionsFor(settings),
            mqtt.Commands.ToCommandOptions(mqtt.RemoteControl),
            this,
            null,
            loggers,
            time);
    }

    /// <summary>The transport's settings from the profile (<c>Mqtt</c>, <c>Outbox:InflightWindow</c>); the availability topic and will are added by the publisher.</summary>
    internal static MqttTransportOptions TransportOptionsFor(ServiceSettings settings)
    {
        var mqtt = settings.Mqtt;
        return new MqttTransportOptions
        {
            Host = mqtt.Host,
            Port = mqtt.Port,
            ClientId = mqtt.DeviceId,
            Username = mqtt.Username,
            Password = mqtt.Password,
            KeepAlive = TimeSpan.FromSeconds(mqtt.KeepAliveSeconds),
            InFlightWindow = settings.Outbox.InflightWindow,
            Tls = mqtt.ToTlsOptions(),
            MaxPacketBytes = mqtt.MaxPacketBytes,
            DisconnectTimeout = TimeSpan.FromSeconds(mqtt.DisconnectTimeoutSeconds),
        };
    }

    /// <summary>The publisher's settings from the profile (<c>Outbox</c>, <c>Health</c>, <c>Mqtt</c>).</summary>
    internal static PublisherOptions PublisherOptionsFor(ServiceSettings settings) => new()
    {
        Window = settings.Outbox.InflightWindow,
        HealthInterval = TimeSpan.FromSeconds(settings.Health.IntervalSeconds),
        HomeAssistantDiscovery = settings.Mqtt.HomeAssistantDiscovery,
        HomeAssistantBirthDelayMax = TimeSpan.FromSeconds(settings.Mqtt.HomeAssistantBirthDelaySeconds),
    };

    public bool IsConnected => _transport.State == MqttConnectionState.Connected;

    // The queue alone: polled every 20 ms by a stop's drain and by the systemd status; GetStatistics also counts the
    // rows awaiting re-analysis and more (until 2026-11-24, review, at every poll, when that count read the whole table).
    public long PendingCount => _outbox.Depth;

    public CancellationToken StorageDamaged => _outbox.Damaged;

    public event EventHandler? ReanalysisRoomMade
    {
        add => _outbox.ReanalysisRoomMade += value;
        remove => _outbox.ReanalysisRoomMade -= value;
    }

    public long ReanalysisRoomMadeCount => _outbox.ReanalysisRoomMadeCount;

    public OutboxCorruptException? StorageDamage => _outbox.Damage;

    /// <summary>The topic of aborted/failed measurement events.</summary>
    public string EventsTopic => $"{_topics.Root}/events";

    bool IInstrumentCommandHandler.InterlockAllowsExposure => _interlockClosed();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _publisher.SetHealthSource(Health, () => _identity.Model); // read at each health message: a model loaded late (ModelSlot) shows
        return _publisher.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Commits one result. Idempotent when it throws: the publishing stage calls it again with the same result after a
    /// storage error, so nothing may have changed in memory before the commit that failed (a scan point is added to
    /// its chunk once, however often the chunk's commit is retried).
    /// </summary>
    /// <exception cref="IOException">The outbox could not store it (full disk, file cap, I/O or other SQLite error); nothing was stored.</exception>
    public ValueTask StoreAsync(MeasurementResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        Storing(() =>
        {
            if (result.ScanId is { } scan)
            {
                if (!_scanPoints.TryGetValue(scan, out var points))
                {
                    _scanPoints[scan] = points = new List<MeasurementResult>(ScanChunkPoints);
                }

                if (points.Count == 0 || !ReferenceEquals(points[^1], result))
                {
                    points.Add(result);
                }

                if (points.Count >= ScanChunkPoints)
                {
                    FlushScanPoints(scan, points);
                }
            }
            else if (result is { Outcome: MeasurementOutcome.Completed, Spectrum: { } spectrum, Identification: { } identification })
            {
                _publisher.Enqueue(new MessagingResult
                {
                    MeasurementId = result.MeasurementId,
                    Spectrum = spectrum,
                    Identification = identification,
                    AcquisitionStart = result.Started,
                    AcquisitionEnd = result.Ended,
                    Preset = result.Preset,
                    Mode = CommandOptions.IdentifyMode,
                    SampleId = result.Request?.SampleId,
                });
            }
            else if (result.Spectrum is { } measured)
            {
                // The operator's measurement is the data of record, analysed or not: its spectrum is committed with the
                // event so that get_spectrum can fetch it after the process has forgotten it (until 2026-11-23 only
                // the event was stored, saying spectrum_available: true for a spectrum nobody could fetch).
                _publisher.EnqueueIncomplete(result.MeasurementId, measured, result.Started, EventMessage(result, spectrumStored: true));
            }
            else
            {
                _outbox.Enqueue(EventMessage(result, spectrumStored: false));
            }
        });

        if (result.Spectrum is { } acquired)
        {
            _lastSpectrum = acquired;
        }

        Answer(result);
        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<StoredIncompleteMeasurement> ReadIncompleteMeasurements(long afterRowId, int max) => _outbox.ReadIncompleteMeasurements(afterRowId, max);

    /// <exception cref="IOException">The outbox could not store it (full, or a detection with this id is stored already).</exception>
    public ValueTask StoreReanalysedAsync(ReanalysedMeasurement measurement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        Storing(() => _publisher.Enqueue(new MessagingResult
        {
            MeasurementId = measurement.MeasurementId,
            Spectrum = measurement.Spectrum,
            Identification = measurement.Identification,
            AcquisitionStart = measurement.Started,
            AcquisitionEnd = measurement.Ended,
            Preset = measurement.Preset,
            Mode = CommandOptions.IdentifyMode,
            SampleId = measurement.SampleId,
            Reanalysed = true,
        }));
        return ValueTask.CompletedTask;
    }

    /// <exception cref="IOException">The outbox could not store them.</exception>
    public ValueTask<IReadOnlyList<long>> StoreReanalysedScanPointsAsync(IReadOnlyList<ReanalysedScanPoint> points, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<long>>([]);
        }

        string scan = points[0].ScanId;
        if (points.Any(p => p.ScanId != scan))
        {
            throw new ArgumentException($"re-analysed scan points of scan {scan} and of others in one chunk: a chunk holds one scan's points", nameof(points));
        }

        var byId = points.ToDictionary(p => p.MeasurementId, StringComparer.Ordinal);
        IReadOnlyList<long> published = [];
        Storing(() =>
        {
            IReadOnlyList<long> chunk = [];
            if (_outbox.ReplaceIncompleteScanPoints(
                [.. points.Select(p => new ScanPointAnalysis(p.MeasurementId, ReanalysedPointsPayload(scan, [p])))],
                present =>
                {
                    chunk = [.. present.Select(a => byId[a.MeasurementId].ScanIndex)];
                    return new OutboxMessage
                    {
                        Kind = OutboxKind.Detection,
                        Topic = $"{_topics.Root}/scans/points",
                        Payload = ReanalysedPointsPayload(scan, [.. present.Select(a => byId[a.MeasurementId])]),
                        Qos = 1,
                    };
                }) > 0)
            {
                published = chunk; // committed
            }
        });
        return ValueTask.FromResult(published);
    }

    /// <summary>Commits the scan's last points, then its summary; idempotent when it throws, like <see cref="StoreAsync"/>.</summary>
    /// <exception cref="IOException">The outbox could not store them.</exception>
    public ValueTask StoreScanSummaryAsync(ScanSummary summary, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        Storing(() =>
        {
            if (_scanPoints.TryGetValue(summary.ScanId, out var points))
            {
                FlushScanPoints(summary.ScanId, points); // removed only once committed: a retry must not lose them
                _scanPoints.Remove(summary.ScanId);
            }

            _outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Detection, Topic = $"{_topics.Root}/scans/summary", Payload = SummaryPayload(summary), Qos = 1 });
        });

        if (_scanRequests.Remove(summary.ScanId, out var request))
        {
            request.Finish(new CommandResult(
                !summary.Aborted,
                summary.Aborted ? $"Scan {summary.ScanId} was aborted after {summary.Points} points." : null,
                new Dictionary<string, string>
                {
                    ["scan_id"] = summary.ScanId,
                    ["points"] = summary.Points.ToString(CultureInfo.InvariantCulture),
                }));
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask PublishStatusAsync(ServiceStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (!IsConnected)
        {
            return; // retained on the broker; re-sent when the connection comes back (Changed fires on connect)
        }

        await _publisher.PublishStatusAsync(
            new XrfEdge.Messaging.Payloads.InstrumentStatus
            {
                State = status.State,
                BootId = status.BootId,
                AppVersion = status.AppVersion,
                Model = _identity.Model,
                ConfigHash = status.ConfigHash,
                RemoteControlEnabled = _settings.Mqtt.RemoteControl,
                LastError = status.LastError,
                ModelError = status.ModelProblem,
            },
            cancellationToken).ConfigureAwait(false);
    }

    public ValueTask PublishHealthAsync(HealthReport health, CancellationToken cancellationToken)
    {
        // The publisher's own loop sends health every Health:IntervalSeconds and on each (re)connect; keep the figures fresh for it.
        _lastHealth = health;
        return ValueTask.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        foreach (var (scan, points) in _scanPoints)
        {
            try
            {
                Storing(() => FlushScanPoints(scan, points));
            }
            catch (IOException ex)
            {
                Log.ScanPointsLost(_logger, points.Count, scan, ex.Message);
            }
        }

        _scanPoints.Clear();

        // Give the drainer what is left of the stop budget to empty the outbox, then disconnect (availability = offline).
        // A damaged outbox has nothing more to give: straight to the disconnect.
        while (IsConnected && !_outbox.IsDamaged && HasPending() && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await _publisher.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _outbox.Dispose();
    }

    async Task<CommandResult> IInstrumentCommandHandler.StartAsync(StartCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!_interlockClosed())
        {
            return CommandResult.Failed("interlock open");
        }

        if (_status.State is ServiceState.Stopping or ServiceState.Starting)
        {
            return CommandResult.Failed($"service is {_status.State.ToString().ToLowerInvariant()}");
        }

        // The reply waits for the measurement (docs/mqtt.md §2): the requester learns its measurement_id, or why none ran.
        var request = new StartRequest("mqtt", command.Preset, command.SampleId);
        _control.RequestStart(request);
        return await request.Finished.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    Task<CommandResult> IInstrumentCommandHandler.StopAsync(CancellationToken cancellationToken)
    {
        _control.RequestStop("stop command");
        return Task.FromResult(CommandResult.Completed(new Dictionary<string, string> { ["state"] = "stopping_measurement" }));
    }

    Task<CommandResult> IInstrumentCommandHandler.SetPresetAsync(TimeSpan preset, CancellationToken cancellationToken)
    {
        var minimum = _settings.Acquisition.MinimumPreset;
        if (preset < minimum || preset > TimeSpan.FromDays(1))
        {
            return Task.FromResult(CommandResult.Failed($"preset must be ≥ {minimum.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (the MCA's preset resolution) and ≤ 86400 s"));
        }

        _settings.Acquisition.PresetSeconds = preset.TotalSeconds;
        return Task.FromResult(CommandResult.Completed(new Dictionary<string, string> { ["preset_s"] = preset.TotalSeconds.ToString(CultureInfo.InvariantCulture) }));
    }

    /// <summary>Answers the start request behind a committed result: its first measurement, or its scan at the summary.</summary>
    private void Answer(MeasurementResult result)
    {
        if (result.Request is not { } request || request.Finished.IsCompleted)
        {
            return;
        }

        if (result.ScanId is { } scan)
        {
            _scanRequests.TryAdd(scan, request);
            return;
        }

        var values = new Dictionary<string, string>
        {
            ["measurement_id"] = result.MeasurementId,
            ["outcome"] = result.Outcome.ToString().ToLowerInvariant(),
        };
        if (result.Preset is { } preset)
        {
            values["preset_s"] = preset.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        }

        if (request.SampleId is { } sample)
        {
            values["sample_id"] = sample;
        }

        bool completed = result.Outcome == MeasurementOutcome.Completed;
        request.Finish(new CommandResult(completed, completed ? null : $"Measurement {result.MeasurementId} {values["outcome"]}: {result.Reason}", values));
    }

    private InstrumentHealth Health() => SpectrumHealth.Apply(new() { Uptime = _lastHealth?.Uptime ?? _time.GetUtcNow() - _identity.Started }, _lastSpectrum);

    private void FlushScanPoints(string scan, List<MeasurementResult> points)
    {
        if (points.Count == 0)
        {
            return;
        }

        // The spectra of the points a model could analyse later, committed with the chunk: the chunk names them by
        // measurement id (get_spectrum), and the re-analysis publishes them again once a model works.
        var failed = new List<IncompleteScanPoint>();
        foreach (var p in points)
        {
            if (Reanalysable(p))
            {
                failed.Add(new IncompleteScanPoint(p.MeasurementId, EventPayload(p, spectrumStored: true), SpectrumPayload.Encode(p.MeasurementId, _topics.Device, p.Spectrum!, p.Started)));
            }
        }

        _outbox.EnqueueScanChunk(new OutboxMessage { Kind = OutboxKind.Detection, Topic = $"{_topics.Root}/scans/points", Payload = PointsPayload(scan, points), Qos = 1 }, failed);
        points.Clear();
    }

    /// <summary>A failed point with a spectrum that failed for want of a model or by ONNX Runtime: one a working model can analyse.</summary>
    private static bool Reanalysable(MeasurementResult p) =>
        p is { Outcome: MeasurementOutcome.Failed, Spectrum: not null, Reason: { } reason }
        && (reason.StartsWith(ReanalysisWorker.ReasonPrefix, StringComparison.Ordinal) || reason.StartsWith(ReanalysisWorker.RuntimeFailurePrefix, StringComparison.Ordinal));

    /// <summary>Runs an outbox write; every storage failure becomes an <see cref="IOException"/> naming the outbox, which the publishing stage retries.</summary>
    private void Storing(Action write)
    {
        try
        {
            write();
        }
        catch (OutboxFullException ex)
        {
            throw new IOException($"outbox {_settings.Outbox.Path}: {ex.Message}", ex);
        }
        catch (SqliteException ex)
        {
            throw new IOException($"outbox {_settings.Outbox.Path}: SQLite error {ex.SqliteErrorCode}: {ex.Message}", ex);
        }
    }

    private bool HasPending()
    {
        try
        {
            return PendingCount > 0;
        }
        catch (OutboxCorruptException)
        {
            return false;
        }
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private OutboxMessage EventMessage(MeasurementResult r, bool spectrumStored) =>
        new() { Kind = OutboxKind.Detection, Topic = EventsTopic, Payload = EventPayload(r, spectrumStored), Qos = 1 };

    /// <summary><c>xrf.measurement-event/1</c>; <paramref name="spectrumStored"/>: committed with the event, so <c>get_spectrum</c> can return it.</summary>
    private byte[] EventPayload(MeasurementResult r, bool spectrumStored)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", SqliteOutbox.MeasurementEventSchema); // written first: the outbox tells event rows by it
            w.WriteString("measurement_id", r.MeasurementId);
            w.WriteString("device", _topics.Device);
            w.WriteString("outcome", r.Outcome.ToString().ToLowerInvariant());
            w.WriteString("reason", r.Reason);
            w.WriteString("mode", r.Mode.ToString().ToLowerInvariant());
            w.WriteStartObject("acquired");
            w.WriteString("start", Iso(r.Started));
            w.WriteString("end", Iso(r.Ended));
            w.WriteEndObject();
            // What a later analysis of the stored spectrum needs to publish the detection the operator would have had.
            if (r.Preset is { } preset)
            {
                w.WriteNumber("preset_s", preset.TotalSeconds);
            }

            if (r.Request?.SampleId is { } sampleId)
            {
                w.WriteString("sample_id", sampleId);
            }

            // Only in the stored copy of a failed scan point (scan points are never published as events): where the
            // later analysis publishes it again.
            if (r.ScanId is { } scanId)
            {
                w.WriteString("scan_id", scanId);
                w.WriteNumber("scan_index", r.ScanIndex ?? -1);
            }

            w.WriteBoolean("spectrum_available", spectrumStored);
            w.WriteBoolean("historical", false);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private byte[] PointsPayload(string scan, List<MeasurementResult> points) =>
        ScanPointsPayload(scan, 64 * points.Count, reanalysed: false, w =>
        {
            foreach (var p in points)
            {
                WritePoint(
                    w,
                    p.ScanIndex ?? -1,
                    p.Outcome != MeasurementOutcome.Completed ? p.Outcome.ToString().ToLowerInvariant() : null,
                    Reanalysable(p) ? p.MeasurementId : null, // its spectrum is stored with this chunk
                    p.Identification,
                    p.Spectrum?.TotalCounts ?? 0);
            }
        });

    /// <summary>
    /// <c>xrf.scan-points/1</c> with <c>"reanalysed": true</c>: points of <paramref name="scan"/> published failed
    /// earlier, now with their elements; same index and measurement id, no <c>outcome</c>.
    /// </summary>
    private byte[] ReanalysedPointsPayload(string scan, IReadOnlyList<ReanalysedScanPoint> points) =>
        ScanPointsPayload(scan, 128 * points.Count, reanalysed: true, w =>
        {
            foreach (var p in points)
            {
                WritePoint(w, p.ScanIndex, null, p.MeasurementId, p.Identification, p.Spectrum.TotalCounts);
            }
        });

    /// <summary>The <c>xrf.scan-points/1</c> envelope of <paramref name="scan"/> around the points <paramref name="writePoints"/> writes.</summary>
    private byte[] ScanPointsPayload(string scan, int capacity, bool reanalysed, Action<Utf8JsonWriter> writePoints)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(capacity, 256));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", "xrf.scan-points/1");
            w.WriteString("scan_id", scan);
            w.WriteString("device", _topics.Device);
            w.WriteBoolean("historical", false);
            if (reanalysed)
            {
                w.WriteBoolean("reanalysed", true);
            }

            w.WriteStartArray("points");
            writePoints(w);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One point of <c>xrf.scan-points/1</c>: index, outcome (omitted when completed), measurement id (only where its spectrum is stored), elements, counts.</summary>
    private static void WritePoint(Utf8JsonWriter w, long index, string? outcome, string? measurementId, Spectra.Identification.Identification? identification, long counts)
    {
        w.WriteStartObject();
        w.WriteNumber("i", index);
        if (outcome is not null)
        {
            w.WriteString("outcome", outcome);
        }

        if (measurementId is not null)
        {
            w.WriteString("measurement_id", measurementId);
        }

        w.WriteStartObject("el");
        foreach (var e in identification?.Elements ?? [])
        {
            w.WriteNumber(e.Symbol, Math.Round(e.Probability, 3));
        }

        w.WriteEndObject();
        w.WriteNumber("counts", counts);
        w.WriteEndObject();
    }

    private byte[] SummaryPayload(ScanSummary s)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", "xrf.scan-summary/1");
            w.WriteString("scan_id", s.ScanId);
            w.WriteString("device", _topics.Device);
            w.WriteString("start", Iso(s.Started));
            w.WriteString("end", Iso(s.Ended));
            w.WriteNumber("points", s.Points);
            w.WriteNumber("failed", s.Failed);
            w.WriteBoolean("aborted", s.Aborted);
            double seconds = Math.Max(1e-9, (s.Ended - s.Started).TotalSeconds);
            w.WriteNumber("spectra_per_s", Math.Round(s.Points / seconds, 1));
            w.WriteStartObject("element_points");
            foreach (var (symbol, count) in s.ElementCounts.OrderByDescending(kv => kv.Value))
            {
                w.WriteNumber(symbol, count);
            }

            w.WriteEndObject();
            w.WriteBoolean("historical", false);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

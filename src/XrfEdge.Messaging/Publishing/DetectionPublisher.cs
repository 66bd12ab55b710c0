using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Commands;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Publishing;

/// <summary>
/// The host-facing publishing API of one instrument on the native topic tree: <see cref="Enqueue"/> commits a
/// measurement (result + outbox row, one transaction) and returns; a background loop drains the outbox to the broker
/// (QoS 1, windowed, delete on PUBACK) and routes inbound messages to the <see cref="CommandProcessor"/> and the Home
/// Assistant adapter; <c>status</c> (retained) and periodic <c>health</c> are published directly. Start/Stop follow the
/// hosted-service pattern; the service project wraps this in a BackgroundService.
/// </summary>
public sealed class DetectionPublisher : IAsyncDisposable
{
    /// <summary>
    /// Longest wait for the PUBACK of a directly published message (status, health, discovery, <c>offline</c>): 5 s, the
    /// bound the <c>offline</c> at a stop always had. On a live link the answer takes milliseconds; past the bound the
    /// message is left to libmosquitto's resend. Until 2026-11-24 a status published as the link went silent waited for
    /// the reconnect, and with it the service's status worker and its LEDs (docs/mqtt.md §1). Public for the service's stop
    /// budget, which reserves it for the <c>offline</c> of a stop.
    /// </summary>
    public static readonly TimeSpan DirectPublishWait = TimeSpan.FromSeconds(5);

    private static readonly OutboxKind[] NativeKinds = [OutboxKind.Detection, OutboxKind.Spectrum, OutboxKind.CommandResponse, OutboxKind.HealthHistory];

    private readonly IMqttTransport _transport;
    private readonly SqliteOutbox _outbox;
    private readonly TopicTree _topics;
    private readonly PublisherOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly OutboxDrainer _drainer;
    private readonly HomeAssistantDiscovery? _homeAssistant;
    private readonly SparkplugNode? _sparkplug;
    private CancellationTokenSource? _stop;
    private Task _loops = Task.CompletedTask;
    private Func<InstrumentHealth>? _healthSource;
    private Func<ModelIdentity?> _model = static () => null;
    private readonly Lock _statusGate = new();
    private bool _statusUnanswered;            // a status is with the transport, its answer not yet in; guarded by _statusGate
    private MqttOutboundMessage? _statusNext;  // the newest status made meanwhile, sent on that answer; guarded by _statusGate
    private int _statusEpoch;                  // counts stops: a chain begun before one leaves the slot alone; guarded by _statusGate
    private readonly Lock _latestGate = new();
    private LatestCandidate? _latestPending;   // the newest delivered detection not yet retained; guarded by _latestGate
    private LatestCandidate? _latestRetained;  // what the broker retains on detections/latest, as far as known; guarded by _latestGate
    private bool _latestSeeded;                // the broker's copy was read (or its wait is over) since the connect; guarded by _latestGate
    private bool _latestReadSinceConnect;      // a copy of ours came on the topic since the last connect; guarded by _latestGate
    private bool _latestReconnected;           // a connect the loop has not yet started its wait for; guarded by _latestGate
    private DateTimeOffset? _latestHeldUnder;  // the connection (its start) under which the broker was seen to hold our copy; guarded by _latestGate
    private readonly Channel<byte> _latestWake = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int _birthDiscoveryWaiting;        // 1 while a birth's delayed discovery waits
    private long _connectDiscoverySends;       // discovery configs sent on a connect; a birth's wait that sees one skips its send
    private long _latestSettled;

    /// <summary>Creates the publisher.</summary>
    /// <param name="transport">The native-tree MQTT connection (its will/birth set by <see cref="ConfigureAvailability"/>).</param>
    /// <param name="outbox">The durable outbox.</param>
    /// <param name="topics">The instrument's topics.</param>
    /// <param name="options">Publishing settings.</param>
    /// <param name="commands">Command settings.</param>
    /// <param name="handler">The instrument's command handler, or null.</param>
    /// <param name="sparkplug">The Sparkplug node when that adapter is on, or null.</param>
    /// <param name="loggerFactory">Logger factory.</param>
    /// <param name="timeProvider">Clock.</param>
    public DetectionPublisher(
        IMqttTransport transport,
        SqliteOutbox outbox,
        TopicTree topics,
        PublisherOptions options,
        CommandOptions? commands = null,
        IInstrumentCommandHandler? handler = null,
        SparkplugNode? sparkplug = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(options);
        if (options.HomeAssistantBirthDelayMax < TimeSpan.Zero || options.HomeAssistantBirthDelayMax > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentException($"PublisherOptions.HomeAssistantBirthDelayMax {options.HomeAssistantBirthDelayMax.TotalSeconds} s must be 0–60 s (5 s by default).", nameof(options));
        }

        _transport = transport;
        _outbox = outbox;
        _topics = topics;
        _options = options;
        _sparkplug = sparkplug;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<DetectionPublisher>();
        _time = timeProvider ?? TimeProvider.System;
        _drainer = new OutboxDrainer(transport, outbox, NativeKinds, options.Window, Encode, null, _logger, _time, delivered: OnDelivered);
        Commands = new CommandProcessor(topics, transport, commands ?? new CommandOptions(), handler, RequestSpectrumAsync, loggerFactory.CreateLogger<CommandProcessor>(), _time);
        if (options.HomeAssistantDiscovery)
        {
            _homeAssistant = new HomeAssistantDiscovery(topics, options.HomeAssistantPrefix);
        }
    }

    /// <summary>The command processor (for counters and tests).</summary>
    public CommandProcessor Commands { get; }

    /// <summary>Outbox rows acknowledged by the broker and deleted since start.</summary>
    public long SentTotal => _drainer.SentTotal;

    /// <summary>Rows handed to the broker and not yet acknowledged.</summary>
    public int InFlight => _drainer.InFlight;

    /// <summary>
    /// Delivered detections the retained <c>detections/latest</c> copy is done with: published and acknowledged, or left
    /// out as not newer than what the broker retains. Lets tests wait for the decision.
    /// </summary>
    internal long LatestSettled => Interlocked.Read(ref _latestSettled);

    /// <summary>
    /// Sets the transport's last will (retained <c>offline</c>) and birth (retained <c>online</c>) on the availability
    /// topic; call before creating the transport.
    /// </summary>
    public static void ConfigureAvailability(MqttTransportOptions transportOptions, TopicTree topics)
    {
        ArgumentNullException.ThrowIfNull(transportOptions);
        ArgumentNullException.ThrowIfNull(topics);
        transportOptions.LastWill = new MqttLastWill(topics.Availability, "offline"u8.ToArray(), 1, true);
        transportOptions.BirthMessages =
        [
            .. transportOptions.BirthMessages,
            new MqttOutboundMessage { Topic = topics.Availability, Payload = "online"u8.ToArray(), Qos = 1, Retain = true, ContentType = "text/plain" },
        ];
    }

    /// <summary>
    /// Supplies instrument figures for the periodic <c>health</c> message and the model identity it reports, both read
    /// at each message (a service's model may load after start-up).
    /// </summary>
    public void SetHealthSource(Func<InstrumentHealth> source, Func<ModelIdentity?> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _healthSource = source;
        _model = model;
    }

    /// <summary>
    /// Commits the measurement: its detection message (with a new seq and msg_id), the stored spectrum for
    /// <c>get_spectrum</c>, and — when Sparkplug is on — its NDATA copy, all in one transaction. Returns after the commit.
    /// </summary>
    /// <exception cref="OutboxFullException">Disk or cap full; the result was not stored (stored rows are kept).</exception>
    public OutboxReceipt Enqueue(MeasurementResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var spectrum = SpectrumPayload.Encode(result.MeasurementId, _topics.Device, result.Spectrum, result.AcquisitionStart);
        var receipt = _outbox.EnqueueMeasurement(new MeasurementRecord(result.MeasurementId, spectrum, result.Reanalysed), stamp =>
        {
            var detection = new OutboxMessage
            {
                Kind = OutboxKind.Detection,
                Topic = _topics.Detections,
                Payload = DetectionPayload.Build(result, stamp, _topics),
                Qos = 1,
            };
            return _options.Sparkplug && _sparkplug is not null
                ? [detection, _sparkplug.CreateDataRow(result, stamp)]
                : [detection];
        });
        _drainer.Wake();
        _sparkplug?.Wake();
        return receipt;
    }

    /// <summary>
    /// Commits a measurement that did not complete (aborted, analysis failed, no valid model) but whose spectrum was
    /// acquired: its event message (e.g. <c>xrf.measurement-event/1</c> on <c>…/events</c>) and its spectrum, stored for
    /// <c>get_spectrum</c> as the same protobuf <see cref="Enqueue"/> stores, in one transaction. It consumes no seq, so
    /// detections' seq still grows by exactly one per completed measurement. Returns after the commit.
    /// </summary>
    /// <param name="measurementId">The measurement's id, the key <c>get_spectrum</c> asks for.</param>
    /// <param name="spectrum">The measured spectrum.</param>
    /// <param name="acquisitionStart">Start of the acquisition, carried in the protobuf.</param>
    /// <param name="eventMessage">The event row to queue.</param>
    /// <exception cref="OutboxFullException">Disk or cap full; nothing was stored (stored rows are kept).</exception>
    public OutboxReceipt EnqueueIncomplete(string measurementId, XrfEdge.Spectra.RawSpectrum spectrum, DateTimeOffset? acquisitionStart, OutboxMessage eventMessage)
    {
        ArgumentException.ThrowIfNullOrEmpty(measurementId);
        ArgumentNullException.ThrowIfNull(spectrum);
        ArgumentNullException.ThrowIfNull(eventMessage);
        var encoded = SpectrumPayload.Encode(measurementId, _topics.Device, spectrum, acquisitionStart);
        var receipt = _outbox.EnqueueIncompleteMeasurement(new MeasurementRecord(measurementId, encoded), eventMessage);
        _drainer.Wake();
        return receipt;
    }

    /// <summary>
    /// Publishes the retained <c>status</c> (directly; the latest value is all that matters). Returns on the broker's
    /// answer, or after <see cref="DirectPublishWait"/> (5 s) without one: the message is then left to libmosquitto,
    /// which sends it again after the reconnect. While such a status is unanswered, a newer one is not handed over but
    /// kept, replacing any kept before, and sent when the broker answers the first: so at most one stale status waits
    /// with libmosquitto however long the link stays away, and the newest is retained last. Until 2026-11-24 (second
    /// review) every change made out of range was handed over, kept until the link returned and replayed as a burst of
    /// stale states. <see cref="StopAsync"/> empties the slot: a kept status is handed over ahead of <c>offline</c>.
    /// </summary>
    public async Task PublishStatusAsync(InstrumentStatus status, CancellationToken cancellationToken)
    {
        var message = new MqttOutboundMessage
        {
            Topic = _topics.Status,
            Payload = StatusPayloads.BuildStatus(status, _time.GetUtcNow()),
            Qos = 1,
            Retain = true,
            ContentType = "application/json",
        };
        int epoch;
        lock (_statusGate)
        {
            if (_statusUnanswered)
            {
                _statusNext = message;
                return;
            }

            _statusUnanswered = true;
            epoch = _statusEpoch;
        }

        await WaitDirectAsync(PublishStatusChainAsync(message, epoch, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <paramref name="message"/>, then on each answer the newest status kept meanwhile, until none is, or until
    /// a stop (a newer <paramref name="epoch"/>) has taken the slot over.
    /// </summary>
    private async Task PublishStatusChainAsync(MqttOutboundMessage message, int epoch, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await PublishAndReportAsync(message, cancellationToken).ConfigureAwait(false);
                lock (_statusGate)
                {
                    if (epoch != _statusEpoch)
                    {
                        // Stopped meanwhile: the stop handed the kept status over and reset the slot for the next start.
                        return;
                    }

                    if (_statusNext is not { } next)
                    {
                        _statusUnanswered = false;
                        return;
                    }

                    _statusNext = null;
                    message = next;
                }

                // Kept ones go on whether or not the first caller still waits.
                cancellationToken = CancellationToken.None;
            }
        }
        catch
        {
            // The transport disposed under it: nothing more can be sent; a later status starts afresh.
            lock (_statusGate)
            {
                if (epoch == _statusEpoch)
                {
                    _statusUnanswered = false;
                    _statusNext = null;
                }
            }

            throw;
        }
    }

    /// <summary>Publishes one <c>health</c> message now (retained latest value; not backlogged).</summary>
    public async Task PublishHealthAsync(CancellationToken cancellationToken)
    {
        var health = _healthSource?.Invoke() ?? new InstrumentHealth();
        if (health.DiskFreeMebibytes is null)
        {
            health = health with { DiskFreeMebibytes = _outbox.DiskFreeMebibytes };
        }

        var mqtt = new MqttHealth(
            _transport.State == MqttConnectionState.Connected,
            _transport.ReconnectCount,
            _transport.LastDisconnectCode,
            _transport.NegotiatedProtocol == MqttProtocolVersion.V311 ? "3.1.1" : "5",
            _transport.LastConnectRefusal);
        // Once per period for both reports (awaiting_reanalysis read the whole results table until 2026-11-24, review).
        var outbox = _outbox.GetStatistics();
        var payload = StatusPayloads.BuildHealth(health, outbox, mqtt, _model(), _time.GetUtcNow());
        // QoS 0: health is "latest value", never backlogged (reference §1.4); a dropped one is replaced a period later.
        await PublishDirectAsync(new MqttOutboundMessage { Topic = _topics.Health, Payload = payload, Qos = 0, Retain = true, ContentType = "application/json" }, cancellationToken).ConfigureAwait(false);
        _sparkplug?.ReportHealth(health, outbox);
    }

    /// <summary>Starts the transport (if needed), subscriptions and the background loops.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stop = new CancellationTokenSource();
        lock (_latestGate)
        {
            _latestSeeded = false;
            _latestReadSinceConnect = false;
        }

        Interlocked.Exchange(ref _birthDiscoveryWaiting, 0);
        _transport.Subscribe(_topics.CommandFilter, 1);

        // The broker hands over the copy it retains, so a re-analysed old detection delivered after a restart cannot replace it.
        _transport.Subscribe(_topics.DetectionsLatest, 1);
        if (_homeAssistant is not null)
        {
            _transport.Subscribe(_homeAssistant.StatusTopic, 1);
            if (_homeAssistant.LegacyConfigTopic is { } legacy)
            {
                // The broker hands over what is retained there on every (re)subscribe; see RouteAsync.
                _transport.Subscribe(legacy, 1);
            }
        }

        _transport.StateChanged += OnStateChanged;

        if (_transport.State == MqttConnectionState.Stopped)
        {
            _transport.Start();
        }

        var token = _stop.Token;
        _loops = Task.WhenAll(
            Task.Run(() => _drainer.RunAsync(token), CancellationToken.None),
            Task.Run(() => RouteAsync(token), CancellationToken.None),
            Task.Run(() => HealthLoopAsync(token), CancellationToken.None),
            Task.Run(() => LatestLoopAsync(token), CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Hands over the status kept behind an unanswered one (<see cref="PublishStatusAsync"/>), publishes retained
    /// <c>offline</c> (a clean DISCONNECT suppresses the will), stops the loops and the transport. Unacknowledged rows
    /// stay in the outbox and are sent after the next start.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null)
        {
            return;
        }

        // The status slot is emptied here, its kept status handed over ahead of "offline", and the slot starts afresh.
        // Until 2026-11-24 the stop left it as it was: the transport's stop failed the unanswered status, whereupon the
        // kept one was handed to the stopped transport after "offline" (libmosquitto sends it at the next connect), and
        // after a restart in the same process every new status was only kept, behind that stale one, until the broker
        // answered it.
        MqttOutboundMessage? kept;
        lock (_statusGate)
        {
            kept = _statusNext;
            _statusNext = null;
            _statusUnanswered = false;
            _statusEpoch++;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DirectPublishWait);
        var keptPublished = kept is null ? Task.CompletedTask : PublishAndReportAsync(kept, timeout.Token);
        if (_transport.State == MqttConnectionState.Connected)
        {
            // A delivered detection whose retained copy is still unsent (failed, waiting for the next delivery or
            // reconnect) goes now: its outbox row is gone, so nothing after a restart would send it (until 2026-11-24,
            // second review, it was lost here). Not while the broker's own copy is still awaited: it may be newer.
            LatestCandidate? unsent;
            lock (_latestGate)
            {
                unsent = _latestSeeded && _latestPending is { } pending
                    && (pending.Resend || _latestRetained is not { } retained || pending.Order.IsNewerThan(retained.Order))
                    ? pending
                    : null;
            }

            var latestPublished = unsent is null ? Task.CompletedTask : PublishLatestAsync(unsent, timeout.Token);
            var offline = PublishAndReportAsync(new MqttOutboundMessage { Topic = _topics.Availability, Payload = "offline"u8.ToArray(), Qos = 1, Retain = true, ContentType = "text/plain" }, timeout.Token);
            await WaitDirectAsync(Task.WhenAll(keptPublished, latestPublished, offline), timeout.Token).ConfigureAwait(false);
        }
        else
        {
            // Link down: no answer can come before the transport's stop below, which fails it (logged 7050); a later start
            // resets libmosquitto's state, so it is never sent (since 2026-11-24). Waiting would only delay the stop by 5 s.
            _ = keptPublished.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _transport.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also when the caller's token fires during the transport's join (its OperationCanceledException goes on to
            // the caller): the loops, cancelled above, are awaited and this publisher is stopped. Until 2026-11-24
            // (second review) the exception left first, so the loops could outlive the stop, the state handler stayed
            // attached, and the next stop or dispose ran the whole stop again.
            await StopLoopsAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Awaits the cancelled loops and clears the started state, whatever they ended with.</summary>
    private async Task StopLoopsAsync()
    {
        try
        {
            await _loops.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            // Even if a loop ended on an unexpected error (rethrown to the caller), this publisher is stopped.
            _transport.StateChanged -= OnStateChanged;
            _stop?.Dispose();
            _stop = null;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private MqttOutboundMessage Encode(OutboxRow row, bool historical)
    {
        var payload = historical && row.Kind == OutboxKind.Detection ? DetectionPayload.MarkHistorical(row.Payload) : row.Payload;
        return new MqttOutboundMessage
        {
            Topic = row.Topic,
            Payload = payload,
            Qos = row.Qos,
            Retain = row.Retain,
            ContentType = row.ContentType,
            UserProperties = row.Kind == OutboxKind.Detection
                ? [new MqttUserProperty("msg_id", row.MsgId.ToString()), new MqttUserProperty("historical", historical ? "true" : "false")]
                : [new MqttUserProperty("msg_id", row.MsgId.ToString())],
        };
    }

    private Task<string?> RequestSpectrumAsync(string measurementId, CancellationToken cancellationToken)
    {
        var spectrum = _outbox.TryGetSpectrum(measurementId);
        if (spectrum is null)
        {
            return Task.FromResult<string?>(null);
        }

        var topic = _topics.Spectrum(measurementId);
        _outbox.Enqueue(new OutboxMessage { Kind = OutboxKind.Spectrum, Topic = topic, Payload = spectrum, Qos = 1, ContentType = SpectrumPayload.ContentType });
        _drainer.Wake();
        return Task.FromResult<string?>(topic);
    }

    private async Task RouteAsync(CancellationToken cancellationToken)
    {
        var running = new List<Task>();
        try
        {
            await foreach (var message in _transport.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (Commands.Owns(message.Topic))
                {
                    // This loop is the device's one ordered command queue: Submit hands start/stop/set_preset to the
                    // instrument before it returns, so they act in arrival order; it bounds the commands pending.
                    running.RemoveAll(t => t.IsCompleted);
                    var work = Commands.Submit(message, cancellationToken);
                    if (!work.IsCompleted)
                    {
                        running.Add(work);
                    }
                }
                else if (message.Topic == _topics.DetectionsLatest)
                {
                    OnLatestRead(message);
                }
                else if (_homeAssistant is not null && message.Topic == _homeAssistant.StatusTopic && message.Payload.AsSpan().SequenceEqual("online"u8))
                {
                    ScheduleBirthDiscovery(cancellationToken);
                }
                else if (_homeAssistant is not null && message.Topic == _homeAssistant.LegacyConfigTopic && _homeAssistant.IsOwnLegacyConfig(message.Payload))
                {
                    await ClearLegacyDiscoveryAsync(_homeAssistant.LegacyConfigTopic, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HealthLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await _transport.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    _outbox.PurgeExpired();
                }
#pragma warning disable CA1031 // Health matters most when storage is in trouble: a failed purge must not cost this period's health.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Log.OutboxPurgeFailed(_logger, ex);
                }

                await PublishHealthAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Outbox, health source or payload: whatever failed, the next period tries again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.HealthPeriodFailed(_logger, _options.HealthInterval.TotalSeconds, ex);
            }

            // Waiting after a failure too keeps a persistent one from spinning the loop.
            try
            {
                await Task.Delay(_options.HealthInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private void OnStateChanged(object? sender, MqttStateChangedEventArgs e)
    {
        if (e.State == MqttConnectionState.Connected && _stop is { } stop)
        {
            // A retained latest copy that failed waits for this (or the next delivery); the broker's copy is awaited
            // again, since a broker restarted without persistence has lost it. Not when the broker was seen to hold our
            // copy under the connection this event announces: the transport raises it on a task of its own, after
            // WaitConnectedAsync has returned, so a copy may have been accepted (or read back) under it already, and until
            // 2026-11-24 that copy was then sent again as lost, marked historical.
            var connection = _transport.ConnectedSince;
            lock (_latestGate)
            {
                if (connection is null || connection != _latestHeldUnder)
                {
                    _latestSeeded = false;
                    _latestReadSinceConnect = false;
                    _latestReconnected = true;
                }
            }

            _latestWake.Writer.TryWrite(0);
            if (_homeAssistant is not null)
            {
                // At once on connect (only a birth waits a random time); fire and forget, so it must not fault unobserved.
                Interlocked.Increment(ref _connectDiscoverySends);
                _ = PublishDiscoveryLoggedAsync(stop.Token);
            }
        }
    }

    /// <summary>
    /// Home Assistant came online: the discovery config is re-sent after a random delay up to
    /// <see cref="PublisherOptions.HomeAssistantBirthDelayMax"/>, so a fleet does not answer one birth at the same instant
    /// (about 1.4 KB each); a birth that arrives while one waits is answered by that one, and a connect during the wait
    /// (which sends at once) answers it too (since 2026-11-24, second review: the wait's send followed as well). Until
    /// 2026-11-24 it was sent at once. Never blocks the routing loop (commands go on meanwhile).
    /// </summary>
    private void ScheduleBirthDiscovery(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _birthDiscoveryWaiting, 1, 0) != 0)
        {
            return;
        }

        var delay = _options.HomeAssistantBirthDelayMax * Math.Clamp(_options.BirthDelayRandom(), 0, 1);
        if (delay <= TimeSpan.Zero)
        {
            Interlocked.Exchange(ref _birthDiscoveryWaiting, 0);
            _ = PublishDiscoveryLoggedAsync(cancellationToken);
            return;
        }

        var connectSendsBefore = Interlocked.Read(ref _connectDiscoverySends);
        _ = Task.Run(
            async () =>
            {
                try
                {
                    // Logged once the wait is set on the clock, so a test that moves its clock on that log moves this wait.
                    var wait = Task.Delay(delay, _time, cancellationToken);
                    Log.DiscoveryDelayed(_logger, _homeAssistant!.ConfigTopic, delay.TotalSeconds);
                    await wait.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                finally
                {
                    // A birth from here on is a new one: it is answered again (the config may have been lost meanwhile).
                    Interlocked.Exchange(ref _birthDiscoveryWaiting, 0);
                }

                if (Interlocked.Read(ref _connectDiscoverySends) != connectSendsBefore)
                {
                    // A connect sent the config after this birth (a broker restart brings both): Home Assistant has it.
                    return;
                }

                await PublishDiscoveryLoggedAsync(cancellationToken).ConfigureAwait(false);
            },
            CancellationToken.None);
    }

    /// <summary>
    /// The drainer's report of a detection the broker acknowledged (its acknowledgement loop; in memory only, never
    /// throws): it becomes the candidate for the retained <c>detections/latest</c> copy when it is of a later
    /// measurement than the candidate before it (<see cref="DetectionOrder.IsNewerThan"/>).
    /// </summary>
    private void OnDelivered(OutboxRow row, bool historical)
    {
        if (row.Kind != OutboxKind.Detection || !DetectionOrder.TryRead(row.Payload, out var order, out _))
        {
            return;
        }

        lock (_latestGate)
        {
            if (_latestPending is { } pending && !order.IsNewerThan(pending.Order))
            {
                return;
            }

            _latestPending = new LatestCandidate(LatestMessage(Encode(row, historical)), order, Resend: false, DeliveredUnder: _transport.ConnectedSince);
        }

        _latestWake.Writer.TryWrite(0);
    }

    /// <summary>
    /// A message on <c>detections/latest</c>: the copy the broker retains (on the subscription after a start) or our own
    /// copy coming back. Either way the broker holds it, so a candidate must be newer to replace it. Anything else there
    /// (an empty retained message that removed the copy, a payload that is no detection, another instrument's detection)
    /// is taken as no copy, so the next delivered detection replaces it; until 2026-11-24 (second review) it left the
    /// belief as it was, and another instrument's later detection kept ours out for good.
    /// </summary>
    private void OnLatestRead(MqttInboundMessage message)
    {
        var payload = message.Payload;
        var ours = DetectionOrder.TryRead(payload, out var order, out var problem);
        if (ours && !DetectionOrder.IsOf(payload, _topics.Fleet, _topics.Device))
        {
            ours = false;
            problem = $"a detection of another instrument, not {_topics.Fleet}/{_topics.Device}";
        }

        if (payload.Length == 0)
        {
            Log.LatestDetectionCleared(_logger, _topics.DetectionsLatest);
        }
        else if (!ours)
        {
            Log.LatestDetectionForeign(_logger, _topics.DetectionsLatest, problem ?? "unreadable");
        }

        var connection = _transport.ConnectedSince;
        lock (_latestGate)
        {
            _latestSeeded = true;
            _latestReadSinceConnect = ours;
            _latestHeldUnder = ours ? connection : null;
            if (!ours)
            {
                _latestRetained = null;
            }
            else if (_latestRetained is not { } retained || order.IsNewerThan(retained.Order))
            {
                var copy = new MqttOutboundMessage { Topic = _topics.DetectionsLatest, Payload = payload, ContentType = message.ContentType ?? "application/json", UserProperties = message.UserProperties };
                _latestRetained = new LatestCandidate(AsRepeat(LatestMessage(copy)), order, Resend: true);
            }
        }

        _latestWake.Writer.TryWrite(0);
    }

    /// <summary>
    /// Publishes the retained <c>detections/latest</c> copy: the newest delivered detection, once the copy the broker
    /// already retains has been read (or <see cref="PublisherOptions.LatestDetectionSeedWait"/> after the first connect
    /// went by without one), when it is newer than that. One copy at a time, each awaited until the broker answers;
    /// candidates delivered meanwhile wait, and only the newest is sent next. A copy refused or failed is logged
    /// (7061/7062) and tried again at the next delivery or reconnect: it is best effort beside the outbox, whose rows
    /// it never holds up (it runs apart from the drainer, and the drainer's report only swaps an object in memory).
    /// </summary>
    private async Task LatestLoopAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? seedDeadline = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await _transport.WaitConnectedAsync(cancellationToken).ConfigureAwait(false);
                LatestCandidate? candidate;
                TimeSpan? seedLeft;
                lock (_latestGate)
                {
                    // One reading of the clock for the deadline, the decision and the wait: read twice, a wait that began
                    // just past the deadline was taken for a seeded one and lasted until the next delivery (second review).
                    var now = _time.GetUtcNow();
                    if (_latestReconnected || seedDeadline is null)
                    {
                        // The broker hands its copy over again on the re-subscription: after a restart without
                        // persistence it has none, and the one it held is sent again below.
                        _latestReconnected = false;
                        seedDeadline = now + _options.LatestDetectionSeedWait;
                    }

                    if (!_latestSeeded && now >= seedDeadline)
                    {
                        _latestSeeded = true;
                        if (!_latestReadSinceConnect && _latestRetained is { } lost && (_latestPending is not { } newer || !newer.Order.IsNewerThan(lost.Order)))
                        {
                            if (_latestPending is not null)
                            {
                                Interlocked.Increment(ref _latestSettled);
                            }

                            _latestPending = lost;
                        }
                    }

                    seedLeft = _latestSeeded ? null : seedDeadline - now;
                    candidate = _latestSeeded ? _latestPending : null;
                    if (candidate is not null && !candidate.Resend && _latestRetained is { } retained && !candidate.Order.IsNewerThan(retained.Order))
                    {
                        // The broker already holds this measurement or a later one.
                        _latestPending = null;
                        candidate = null;
                        Interlocked.Increment(ref _latestSettled);
                    }
                }

                if (candidate is null || !await PublishLatestAsync(candidate, cancellationToken).ConfigureAwait(false))
                {
                    await WaitLatestWakeAsync(seedLeft, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Sends one copy and waits for the broker's answer; true when it was accepted.</summary>
    private async Task<bool> PublishLatestAsync(LatestCandidate candidate, CancellationToken cancellationToken)
    {
        // A delivered detection's copy sent under a later connection than its delivery is historical (AsRepeat). Decided
        // here, by the connection's start, not by the Connected event: the transport raises that on a task of its own
        // after WaitConnectedAsync has returned, so a detection could be delivered under the new connection before it,
        // and until 2026-11-24 (second review) its copy was then marked historical too.
        var connection = _transport.ConnectedSince;
        var message = candidate.Resend || (candidate.DeliveredUnder is { } under && connection == under)
            ? candidate.Message
            : AsRepeat(candidate.Message);
        try
        {
            var outcome = await _transport.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (!outcome.Accepted)
            {
                Log.LatestDetectionRefused(_logger, candidate.Order.Seq, message.Topic, outcome.ReasonCode, outcome.Description);
                return false;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Best effort: whatever failed, the outbox goes on and the copy is tried again later.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.LatestDetectionFailed(_logger, candidate.Order.Seq, message.Topic, ex);
            return false;
        }

        lock (_latestGate)
        {
            _latestHeldUnder = connection;
            if (_latestRetained is not { } retained || candidate.Order.IsNewerThan(retained.Order))
            {
                _latestRetained = candidate with { Message = AsRepeat(message), Resend = true };
            }

            if (ReferenceEquals(_latestPending, candidate))
            {
                _latestPending = null;
            }
        }

        if (!candidate.Resend)
        {
            Interlocked.Increment(ref _latestSettled);
        }

        return true;
    }

    /// <summary>Waits for a delivery, a read copy or a reconnect, and while the broker's copy is awaited (<paramref name="seedLeft"/> not null) at most that long.</summary>
    private async Task WaitLatestWakeAsync(TimeSpan? seedLeft, CancellationToken cancellationToken)
    {
        if (seedLeft is not { } left)
        {
            await _latestWake.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var woken = _latestWake.Reader.WaitToReadAsync(either.Token).AsTask();
            await Task.WhenAny(woken, Task.Delay(left, _time, either.Token)).ConfigureAwait(false);
            await either.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        _latestWake.Reader.TryRead(out _);
    }

    /// <summary>The retained <c>detections/latest</c> form of a detection message: same payload and properties, retained, QoS 1.</summary>
    private MqttOutboundMessage LatestMessage(MqttOutboundMessage detection) => detection with { Topic = _topics.DetectionsLatest, Retain = true, Qos = 1 };

    /// <summary>
    /// The copy as it is sent under a later connection than the detection's delivery (sent again after a reconnect that
    /// found the broker without it, or a copy that failed and goes out after a reconnect): marked
    /// <c>historical</c>, in the payload and the v5 user property, as docs/mqtt.md defines it, a message created before
    /// the current connection. A subscriber connected meanwhile gets it forwarded without the retain flag, like a new
    /// detection; until 2026-11-24 it read <c>historical: false</c>, so a dashboard took a measurement of hours ago for
    /// one of now. Its <c>msg_id</c> and every other member stay as they were.
    /// </summary>
    private static MqttOutboundMessage AsRepeat(MqttOutboundMessage copy) => copy with
    {
        Payload = DetectionPayload.MarkHistorical(copy.Payload.Span),
        UserProperties = [.. copy.UserProperties.Select(p => p.Name == "historical" ? new MqttUserProperty("historical", "true") : p)],
    };

    /// <summary>
    /// A detection for the retained latest copy: a delivered one waiting to be retained, or the one the broker retains
    /// (<paramref name="Resend"/>: sent again after a reconnect that found none, not counted in <see cref="LatestSettled"/>;
    /// its message is historical already). <paramref name="DeliveredUnder"/>: the start of the connection a delivered one
    /// was reported under (null: none, or not a delivery); its copy sent under another is historical.
    /// </summary>
    private sealed record LatestCandidate(MqttOutboundMessage Message, DetectionOrder Order, bool Resend, DateTimeOffset? DeliveredUnder = null);

    /// <summary>Publishes the discovery config; any failure is logged, never thrown (routing and the state handler go on).</summary>
    private async Task PublishDiscoveryLoggedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await PublishDiscoveryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // PublishDirectAsync already logs broker errors; anything else is logged here.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AuxiliaryPublishFailed(_logger, _homeAssistant?.ConfigTopic ?? "(discovery)", ex);
        }
    }

    /// <summary>
    /// Removes this instrument's config of a version before 2026-11-24 (an empty retained message on its config topic
    /// removes a discovered device, HA mqtt.markdown "Discovery messages"), so Home Assistant does not keep a second device
    /// on the same native topics; any failure is logged, never thrown.
    /// </summary>
    private async Task ClearLegacyDiscoveryAsync(string topic, CancellationToken cancellationToken)
    {
        try
        {
            Log.LegacyDiscoveryFound(_logger, topic);
            await PublishDirectAsync(new MqttOutboundMessage { Topic = topic, Payload = Array.Empty<byte>(), Qos = 1, Retain = true }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // PublishDirectAsync already logs broker errors; anything else is logged here.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AuxiliaryPublishFailed(_logger, topic, ex);
        }
    }

    private async Task PublishDiscoveryAsync(CancellationToken cancellationToken)
    {
        if (_homeAssistant is null)
        {
            return;
        }

        await PublishDirectAsync(new MqttOutboundMessage
        {
            Topic = _homeAssistant.ConfigTopic,
            Payload = _homeAssistant.BuildConfig(),
            Qos = 1,
            Retain = true,
            ContentType = "application/json",
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes a message that has no outbox row (status, health, discovery, <c>offline</c>) and waits for the broker's
    /// answer at most <see cref="DirectPublishWait"/>. A message not answered by then stays with libmosquitto, which sends
    /// it again after a reconnect (QoS 1); its refusal or failure is still logged when it comes.
    /// </summary>
    private Task PublishDirectAsync(MqttOutboundMessage message, CancellationToken cancellationToken) =>
        WaitDirectAsync(PublishAndReportAsync(message, cancellationToken), cancellationToken);

    /// <summary>Waits for a direct publish at most <see cref="DirectPublishWait"/>, or until <paramref name="cancellationToken"/>.</summary>
    private async Task WaitDirectAsync(Task published, CancellationToken cancellationToken)
    {
        try
        {
            await published.WaitAsync(DirectPublishWait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The link went silent (half-open, out of range): the callers (the service's status worker between its LED
            // updates, the routing loop for discovery) must not wait for a link that may stay away for hours.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Publishes and logs a refusal or failure; never throws for a refusal, a lost link or a cancellation.</summary>
    private async Task PublishAndReportAsync(MqttOutboundMessage message, CancellationToken cancellationToken)
    {
        try
        {
            var outcome = await _transport.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            if (!outcome.Accepted)
            {
                // status, health, discovery and offline have no outbox row to dead-letter; a refusal (ACL 0x87, too large
                // 0x95) was dropped without a word until 2026-11-23.
                Log.AuxiliaryPublishRefused(_logger, message.Topic, outcome.ReasonCode, outcome.Description);
            }
        }
        catch (Exception ex) when (ex is MqttException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Log.AuxiliaryPublishFailed(_logger, message.Topic, ex);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

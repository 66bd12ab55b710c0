using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Messaging.Native;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Transport;
using SpPayload = XrfEdge.Messaging.Sparkplug.Payload;

namespace XrfEdge.Messaging.Adapters;

/// <summary>
/// Sparkplug B 3.0 edge node for one instrument (reference §1.1; spec chapters 4–6) on its own MQTT connection (the
/// spec needs a clean session and its own will): NDEATH will with bdSeq (+1 per CONNECT), NCMD subscription before the
/// birth, NBIRTH (seq 0, bdSeq, <c>Node Control/Rebirth</c> = false, every metric with name and alias), then NDATA
/// (QoS 0, alias only, seq 1…255→0). Detections are <c>Detections/Lines</c> DataSet metrics stored in the outbox with
/// the native detection; rows created before the current connection are replayed with <c>is_historical</c> = true and
/// their original timestamps. With a primary host configured, nothing is sent until its STATE says online.
/// </summary>
public sealed class SparkplugNode : IAsyncDisposable
{
    private const uint Int64Type = 4;
    private const uint FloatType = 9;
    private const uint DoubleType = 10;
    private const uint BooleanType = 11;
    private const uint StringType = 12;
    private const uint DataSetType = 16;

    private static readonly (string Name, ulong Alias, uint Type)[] Metrics =
    [
        ("bdSeq", 0, Int64Type),
        ("Node Control/Rebirth", 1, BooleanType),
        ("Detections/MeasurementId", 2, StringType),
        ("Detections/Seq", 3, Int64Type),
        ("Detections/Elements", 4, StringType),
        ("Detections/Lines", 5, DataSetType),
        ("Detector/Temperature", 6, DoubleType),
        ("Counts/ICR", 7, DoubleType),
        ("Counts/DeadTimePct", 8, DoubleType),
        ("Outbox/Depth", 9, Int64Type),
        ("Outbox/EvictedTotal", 10, Int64Type),
        ("Outbox/AwaitingReanalysis", 11, Int64Type), // since 2026-11-24, as health's outbox.awaiting_reanalysis
        ("Outbox/PrunedUnanalysedTotal", 12, Int64Type), // since 2026-11-24, as health's outbox.pruned_unanalysed_total
    ];

    private readonly IMqttTransport _transport;
    private readonly string _group;
    private readonly string _node;
    private readonly string? _primaryHost;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly OutboxDrainer _drainer;
    private readonly Lock _gate = new();

    // Held while a message takes its seq and is handed to the transport, NBIRTH included, so that the hand-over order is
    // the seq order: every NDATA handed over after an NBIRTH carries a seq of that birth.
    private readonly Lock _sendGate = new();
    private readonly SqliteOutbox _outbox;
    private long _bdSeq;
    private int _seq;
    private bool _birthSent;
    private DateTimeOffset? _birthConnection; // the transport's ConnectedSince when the NBIRTH was handed over; guarded by _gate
    private bool _willIssued;
    private bool _ownsTransport;
    private bool _hostOnline;
    private long _hostTimestamp;
    private CancellationTokenSource? _stop;
    private Task _loops = Task.CompletedTask;

    /// <summary>Creates the node on a transport created with <see cref="ConfigureTransport"/>.</summary>
    /// <param name="transport">A dedicated clean-session connection.</param>
    /// <param name="outbox">The shared outbox (this node drains only <see cref="OutboxKind.SparkplugData"/> rows).</param>
    /// <param name="groupId">Sparkplug group id (fleet or site).</param>
    /// <param name="edgeNodeId">Edge node id (instrument serial).</param>
    /// <param name="primaryHostId">Primary host application id whose STATE gates sending, or null.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="timeProvider">Clock.</param>
    public SparkplugNode(IMqttTransport transport, SqliteOutbox outbox, string groupId, string edgeNodeId, string? primaryHostId = null, ILogger<SparkplugNode>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        CheckId(groupId, nameof(groupId));
        CheckId(edgeNodeId, nameof(edgeNodeId));
        if (primaryHostId is not null)
        {
            CheckId(primaryHostId, nameof(primaryHostId));
        }

        _transport = transport;
        _outbox = outbox;
        _group = groupId;
        _node = edgeNodeId;
        _primaryHost = primaryHostId;
        _hostOnline = primaryHostId is null;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _drainer = new OutboxDrainer(transport, outbox, [OutboxKind.SparkplugData], 10, EncodeData, CanSend, _logger, _time, send: SendData);
        _transport.StateChanged += OnStateChanged;
    }

    /// <summary>The node's MQTT connection.</summary>
    public IMqttTransport Transport => _transport;

    /// <summary><c>spBv1.0/{group}/NBIRTH/{node}</c>.</summary>
    public string BirthTopic => $"spBv1.0/{_group}/NBIRTH/{_node}";

    /// <summary><c>spBv1.0/{group}/NDEATH/{node}</c>.</summary>
    public string DeathTopic => $"spBv1.0/{_group}/NDEATH/{_node}";

    /// <summary><c>spBv1.0/{group}/NDATA/{node}</c>.</summary>
    public string DataTopic => $"spBv1.0/{_group}/NDATA/{_node}";

    /// <summary><c>spBv1.0/{group}/NCMD/{node}</c>.</summary>
    public string CommandTopic => $"spBv1.0/{_group}/NCMD/{_node}";

    /// <summary>bdSeq of the current (or next) connection, 0–255.</summary>
    public long BdSeq
    {
        get
        {
            lock (_gate)
            {
                return _bdSeq;
            }
        }
    }

    /// <summary>
    /// Creates a node with its own <see cref="MosquittoTransport"/> built from <paramref name="options"/> (made
    /// Sparkplug-compliant: clean session, NDEATH will carrying each CONNECT's bdSeq).
    /// </summary>
    public static SparkplugNode Create(MqttTransportOptions options, SqliteOutbox outbox, string groupId, string edgeNodeId, string? primaryHostId = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckId(groupId, nameof(groupId));
        CheckId(edgeNodeId, nameof(edgeNodeId));
        if (primaryHostId is not null)
        {
            CheckId(primaryHostId, nameof(primaryHostId));
        }

        SparkplugNode? node = null;
        ConfigureTransport(options, groupId, edgeNodeId, () => node!.NextWillBdSeq(), timeProvider);
        loggerFactory ??= NullLoggerFactory.Instance;
        var transport = new MosquittoTransport(options, loggerFactory.CreateLogger<MosquittoTransport>(), timeProvider);
        node = new SparkplugNode(transport, outbox, groupId, edgeNodeId, primaryHostId, loggerFactory.CreateLogger<SparkplugNode>(), timeProvider) { _ownsTransport = true };
        return node;
    }

    /// <summary>
    /// Makes <paramref name="options"/> Sparkplug-compliant: clean session, and a will provider producing NDEATH with the
    /// bdSeq of each CONNECT (QoS 1, not retained). <paramref name="bdSeq"/> must be the same node's counter.
    /// </summary>
    public static void ConfigureTransport(MqttTransportOptions options, string groupId, string edgeNodeId, Func<long> bdSeq, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bdSeq);
        CheckId(groupId, nameof(groupId));
        CheckId(edgeNodeId, nameof(edgeNodeId));
        options.CleanSession = true;
        var topic = $"spBv1.0/{groupId}/NDEATH/{edgeNodeId}";
        var time = timeProvider ?? TimeProvider.System;

        // Built for each CONNECT, when the transport sets its will: at the start, when the previous connection was lost, or
        // at a restart of the network thread. libmosquitto's own reconnect sends no call before its CONNECT, so after an
        // outage the stamp is when the link was lost. (Eclipse Tahu's example edge nodes build it once and let Paho's
        // automatic reconnect reuse it, time and bdSeq.)
        options.WillProvider = () => new MqttLastWill(topic, BuildDeath(bdSeq(), (ulong)time.GetUtcNow().ToUnixTimeMilliseconds()), 1, false);
    }

    /// <summary>
    /// Checks a Sparkplug group, edge node or host id: spec chapter 4 (T, "Topic Namespace Elements") allows any UTF-8
    /// except the reserved <c>+</c>, <c>/</c> and <c>#</c>; MQTT 5 §1.5.4 forbids U+0000 in topics; an empty id would
    /// leave an empty topic level. A <c>/</c> used to shift every level after it, so a host read another group or node.
    /// </summary>
    /// <exception cref="ArgumentException">The id breaks one of these rules; the message names the parameter.</exception>
    public static void CheckId(string id, string name)
    {
        ArgumentNullException.ThrowIfNull(id, name);
        var problem = id.Length == 0 ? "is empty"
            : id.IndexOfAny(['+', '/', '#']) >= 0 ? "contains a reserved character (+ / #)"
            : id.Contains('\0', StringComparison.Ordinal) ? "contains U+0000"
            : !IsWellFormedUtf16(id) ? "is not valid UTF-8 (a lone surrogate)"
            : null;
        if (problem is not null)
        {
            throw new ArgumentException($"Sparkplug {name} '{id}' {problem}; Sparkplug B 3.0 topics allow any UTF-8 except + / #.", name);
        }
    }

    private static bool IsWellFormedUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The NDEATH payload: one Int64 metric <c>bdSeq</c>, no seq (spec P "Payload"), stamped <paramref name="timestampMs"/>
    /// (milliseconds since the Unix epoch, UTC: when it was built).
    /// </summary>
    public static byte[] BuildDeath(long bdSeq, ulong timestampMs)
    {
        // Until 2026-11-24 the timestamp was 0, a death on 1970-01-01 for a host that shows it.
        var payload = new SpPayload { Timestamp = timestampMs };
        payload.Metrics.Add(new SpPayload.Types.Metric { Name = "bdSeq", Datatype = Int64Type, LongValue = (ulong)bdSeq });
        return payload.ToByteArray();
    }

    /// <summary>
    /// Next bdSeq to put in the will; call from the will provider only (it advances per CONNECT, wrapping at 255). Kept in
    /// the outbox (<see cref="SqliteOutbox.NextSparkplugBdSeq"/>), so a restarted process goes on from its last CONNECT's;
    /// when the outbox cannot say, one more than this process's last (warning 7057).
    /// </summary>
    public long NextWillBdSeq()
    {
        long? stored = null;
        try
        {
            stored = _outbox.NextSparkplugBdSeq();
        }
#pragma warning disable CA1031 // Runs on the network thread before a CONNECT: a storage failure must not stop the connect.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SparkplugBdSeqNotStored(_logger, _node, ex);
        }

        lock (_gate)
        {
            if (stored is { } next)
            {
                _bdSeq = next;
                _willIssued = true;
                return _bdSeq;
            }

            // The provider runs before the first connect, after every disconnect and before a restarted thread's connect:
            // each call = one new CONNECT.
            if (_willIssued)
            {
                _bdSeq = (_bdSeq + 1) % 256;
            }

            _willIssued = true;
            return _bdSeq;
        }
    }

    /// <summary>The NDATA row stored with a detection (its seq and is_historical are set when sent).</summary>
    public OutboxMessage CreateDataRow(MeasurementResult result, OutboxStamp stamp)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(stamp);
        var timestamp = (ulong)(result.AcquisitionEnd ?? stamp.CreatedUtc).ToUnixTimeMilliseconds();
        var payload = new SpPayload { Timestamp = timestamp, Uuid = DetectionPayload.SchemaId };
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 2, Timestamp = timestamp, Datatype = StringType, StringValue = result.MeasurementId });
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 3, Timestamp = timestamp, Datatype = Int64Type, LongValue = (ulong)stamp.Seq });
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 4, Timestamp = timestamp, Datatype = StringType, StringValue = string.Join(",", result.Identification.Elements.Select(e => e.Symbol)) });
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 5, Timestamp = timestamp, Datatype = DataSetType, DatasetValue = LinesDataSet(result) });
        return new OutboxMessage { Kind = OutboxKind.SparkplugData, Topic = DataTopic, Payload = payload.ToByteArray(), Qos = 0, ContentType = "application/x-protobuf" };
    }

    /// <summary>Signals new rows.</summary>
    public void Wake() => _drainer.Wake();

    /// <summary>Sends health metrics as NDATA now (QoS 0, only while born).</summary>
    public void ReportHealth(InstrumentHealth health, OutboxStatistics outbox)
    {
        ArgumentNullException.ThrowIfNull(health);
        ArgumentNullException.ThrowIfNull(outbox);
        if (!CanSend())
        {
            return;
        }

        var now = (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();
        var payload = new SpPayload { Timestamp = now };
        AddDouble(payload, 6, now, health.DetectorTemperatureCelsius);
        AddDouble(payload, 7, now, health.InputCountsPerSecond);
        AddDouble(payload, 8, now, health.DeadTimePercent);
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 9, Timestamp = now, Datatype = Int64Type, LongValue = (ulong)outbox.Depth });
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 10, Timestamp = now, Datatype = Int64Type, LongValue = (ulong)outbox.EvictedTotal });
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 11, Timestamp = now, Datatype = Int64Type, LongValue = (ulong)outbox.AwaitingReanalysis });
        payload.Metrics.Add(new SpPayload.Types.Metric { Alias = 12, Timestamp = now, Datatype = Int64Type, LongValue = (ulong)outbox.PrunedUnanalysedTotal });
        Task<MqttPublishOutcome> sent;
        lock (_sendGate)
        {
            if (!CanSend())
            {
                return;
            }

            payload.Seq = NextSeq();
            sent = _transport.PublishAsync(new MqttOutboundMessage { Topic = DataTopic, Payload = payload.ToByteArray(), Qos = 0 }, CancellationToken.None);
        }

        _ = sent.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
    }

    /// <summary>Subscribes NCMD (and the primary host's STATE), starts the transport and the NDATA drain loop.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stop = new CancellationTokenSource();
        _transport.Subscribe(CommandTopic, 1);
        if (_primaryHost is not null)
        {
            _transport.Subscribe($"spBv1.0/STATE/{_primaryHost}", 1);
        }

        if (_transport.State == MqttConnectionState.Stopped)
        {
            _transport.Start();
        }

        var token = _stop.Token;
        _loops = Task.WhenAll(Task.Run(() => _drainer.RunAsync(token), CancellationToken.None), Task.Run(() => ReadCommandsAsync(token), CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>Publishes NDEATH (a deliberate disconnect must, spec O "Edge Node Session Termination") and stops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null)
        {
            return;
        }

        if (_transport.State == MqttConnectionState.Connected)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await _transport.PublishAsync(new MqttOutboundMessage { Topic = DeathTopic, Payload = BuildDeath(BdSeq, (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds()), Qos = 1 }, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MqttException or OperationCanceledException)
            {
                Log.AuxiliaryPublishFailed(_logger, DeathTopic, ex);
            }
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _transport.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Also when the caller's token fires during the transport's join (its OperationCanceledException goes on to
            // the caller): the loops, cancelled above, are awaited and the node is stopped. Until 2026-11-24 (second
            // review) the exception left first, so the loops could outlive the stop and a dispose sent NDEATH again.
            try
            {
                await _loops.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _stop.Dispose();
                _stop = null;
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _transport.StateChanged -= OnStateChanged;
        if (_ownsTransport)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static SpPayload.Types.DataSet LinesDataSet(MeasurementResult result)
    {
        var dataSet = new SpPayload.Types.DataSet { NumOfColumns = 4 };
        dataSet.Columns.Add(["element", "line", "energy_keV", "probability"]);
        dataSet.Types_.Add([StringType, StringType, DoubleType, FloatType]);
        foreach (var line in result.Identification.Lines)
        {
            var row = new SpPayload.Types.DataSet.Types.Row();
            row.Elements.Add(new SpPayload.Types.DataSet.Types.DataSetValue { StringValue = line.Line.Element });
            row.Elements.Add(new SpPayload.Types.DataSet.Types.DataSetValue { StringValue = line.Line.Name });
            row.Elements.Add(new SpPayload.Types.DataSet.Types.DataSetValue { DoubleValue = line.Line.EnergyKeV });
            row.Elements.Add(new SpPayload.Types.DataSet.Types.DataSetValue { FloatValue = line.Probability });
            dataSet.Rows.Add(row);
        }

        return dataSet;
    }

    private static void AddDouble(SpPayload payload, ulong alias, ulong timestamp, double? value)
    {
        var metric = new SpPayload.Types.Metric { Alias = alias, Timestamp = timestamp, Datatype = DoubleType };
        if (value is { } v)
        {
            metric.DoubleValue = v;
        }
        else
        {
            metric.IsNull = true;
        }

        payload.Metrics.Add(metric);
    }

    /// <summary>
    /// True while NDATA may go: the host is online and the NBIRTH was handed over on the connection the transport has now.
    /// The connection is compared, not only a flag the state events clear: they are dispatched on a task of their own, so
    /// after a drop and a quick reconnect the transport is connected again before the "disconnected" event has cleared
    /// the flag, and until 2026-11-24 (fourth review) NDATA went out on the new connection ahead of its NBIRTH, carrying
    /// the previous birth's seq.
    /// </summary>
    private bool CanSend()
    {
        var connection = _transport.ConnectedSince;
        lock (_gate)
        {
            return _birthSent && _hostOnline && connection is not null && connection == _birthConnection;
        }
    }

    private ulong NextSeq()
    {
        lock (_gate)
        {
            _seq = (_seq + 1) % 256;
            return (ulong)_seq;
        }
    }

    /// <summary>
    /// The drainer's hand-over of an NDATA row: its seq is taken and the message handed to the transport as one step, so a
    /// rebirth cannot come between them. Until 2026-11-24 the seq was taken when the row was encoded, before the
    /// hand-over: a rebirth in between let the row follow the new NBIRTH with the previous birth's seq, and a host that
    /// sees an out-of-order seq may ask for yet another rebirth.
    /// </summary>
    private Task<MqttPublishOutcome> SendData(OutboxRow row, bool historical, CancellationToken cancellationToken)
    {
        lock (_sendGate)
        {
            // Checked again here, under the lock the NBIRTH takes: the drainer checks once per pass, and the connection may
            // have changed since. A link failure to the drainer: the row is sent again after the next NBIRTH, uncounted.
            if (!CanSend())
            {
                throw new MqttException($"NDATA row {row.Id} not handed over: no NBIRTH on the current connection yet.", LibMosquitto.ErrNoConn);
            }

            return _transport.PublishAsync(EncodeData(row, historical), cancellationToken);
        }
    }

    private MqttOutboundMessage EncodeData(OutboxRow row, bool historical)
    {
        var payload = SpPayload.Parser.ParseFrom(row.Payload);
        foreach (var metric in payload.Metrics)
        {
            metric.IsHistorical = historical;
        }

        // Spec chapter 6, NDATA: the payload timestamp "denotes the time at which the message was published"; the time the
        // values were captured stays in each metric's timestamp. Until 2026-11-24 a stored row went out with its
        // acquisition time here, so a backlog replayed after days offline claimed to have been published days before.
        payload.Timestamp = (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();
        payload.Seq = NextSeq();
        return new MqttOutboundMessage { Topic = row.Topic, Payload = payload.ToByteArray(), Qos = 0 };
    }

    private void OnStateChanged(object? sender, MqttStateChangedEventArgs e)
    {
        if (e.State == MqttConnectionState.Connected)
        {
            PublishBirth();
        }
        else
        {
            lock (_gate)
            {
                _birthSent = false;
            }
        }
    }

    private void PublishBirth()
    {
        lock (_gate)
        {
            if (!_hostOnline)
            {
                return;
            }
        }

        var now = (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();
        var payload = new SpPayload { Timestamp = now, Seq = 0 };
        foreach (var (name, alias, type) in Metrics)
        {
            var metric = new SpPayload.Types.Metric { Name = name, Alias = alias, Timestamp = now, Datatype = type };
            switch (name)
            {
                case "bdSeq":
                    metric.LongValue = (ulong)BdSeq;
                    break;
                case "Node Control/Rebirth":
                    metric.BooleanValue = false;
                    break;
                case "Detections/Lines":
                    metric.DatasetValue = new SpPayload.Types.DataSet { NumOfColumns = 4, Columns = { "element", "line", "energy_keV", "probability" }, Types_ = { StringType, StringType, DoubleType, FloatType } };
                    break;
                default:
                    metric.IsNull = true;
                    break;
            }

            payload.Metrics.Add(metric);
        }

        // NDATA waits (CanSend false) until the NBIRTH has been handed to the library, so no NDATA can overtake it, and
        // none keeps a seq of the previous birth (spec O: NBIRTH first, seq 0, then +1). Until 2026-11-23 sending was
        // allowed before the NBIRTH was published, so health or a backlog row could go out ahead of it.
        Task<MqttPublishOutcome> born;
        lock (_sendGate)
        {
            var connection = _transport.ConnectedSince;
            lock (_gate)
            {
                _seq = 0;
                _birthSent = false;
                _birthConnection = connection;
            }

            born = _transport.PublishAsync(new MqttOutboundMessage { Topic = BirthTopic, Payload = payload.ToByteArray(), Qos = 0 }, CancellationToken.None);
            lock (_gate)
            {
                _birthSent = _hostOnline;
            }
        }

        _ = born.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);

        _drainer.Wake();
    }

    private async Task ReadCommandsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _transport.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    if (message.Topic == CommandTopic)
                    {
                        HandleNodeCommand(message.Payload);
                    }
                    else if (_primaryHost is not null && message.Topic == $"spBv1.0/STATE/{_primaryHost}")
                    {
                        HandleHostState(message.Payload);
                    }
                }
#pragma warning disable CA1031 // Any client may publish here: no message may end the loop (it did until 2026-11).
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    Log.CommandRejected(_logger, message.Topic, $"message not handled: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void HandleNodeCommand(byte[] bytes)
    {
        SpPayload payload;
        try
        {
            payload = SpPayload.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            Log.CommandRejected(_logger, CommandTopic, $"NCMD is not a Sparkplug payload: {ex.Message}");
            return;
        }

        if (payload.Metrics.Any(m => (m.Name == "Node Control/Rebirth" || (m.HasAlias && m.Alias == 1)) && m.BooleanValue))
        {
            PublishBirth();
        }
    }

    private void HandleHostState(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var online = document.RootElement.GetProperty("online").GetBoolean();
            var timestamp = document.RootElement.TryGetProperty("timestamp", out var ts) ? ts.GetInt64() : 0;
            bool becameOnline;
            lock (_gate)
            {
                // Spec O: act only on a STATE at least as new as the last one seen.
                if (timestamp < _hostTimestamp)
                {
                    return;
                }

                _hostTimestamp = timestamp;
                becameOnline = online && !_hostOnline;
                _hostOnline = online;
                if (!online)
                {
                    _birthSent = false;
                }
            }

            if (becameOnline && _transport.State == MqttConnectionState.Connected)
            {
                PublishBirth();
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            Log.CommandRejected(_logger, $"spBv1.0/STATE/{_primaryHost}", $"STATE is not {{\"online\":bool,\"timestamp\":ms}}: {ex.Message}");
        }
    }
}

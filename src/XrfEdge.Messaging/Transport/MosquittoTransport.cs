using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Messaging.Native;

namespace XrfEdge.Messaging.Transport;

/// <summary>
/// <see cref="IMqttTransport"/> on libmosquitto 2.0 with the reference's workarounds (§2.4): a first connect that fails
/// at once is retried by a supervisor (P1), which also restarts a network thread that ended on a "fatal" error (P2/P3);
/// publishes complete only on their PUBACK with reason &lt; 0x80 (P4), the library's in-flight window is kept small
/// (§2.3), and a broker that stops answering is detected by keep-alive and by an acknowledgement timeout.
/// Callbacks run on the library thread with its mutex held, so they only copy data and complete tasks.
/// </summary>
/// <remarks>
/// We call <c>mosquitto_connect_async</c> only while no network thread exists, and start the thread after it returns.
/// The reverse order (the reference's P1 advice) lets the thread's own reconnect run at the same time as ours on one
/// SSL object: a SIGSEGV in libssl, reproduced by the <c>tls-soak</c> test (docs/mqtt.md §7, "Fixed defect").
/// </remarks>
public sealed class MosquittoTransport : IMqttTransport
{
    private static readonly Lazy<(int Major, int Minor, int Revision)> LibraryVersion = new(InitLibrary);

    /// <summary>Smallest <see cref="MqttTransportOptions.MaxPacketBytes"/>: a detection is 1–3 KB, so less would refuse nearly everything.</summary>
    private const int MinimumMaxPacketBytes = 1024;

    // Bounds of MqttTransportOptions.DisconnectTimeout: a healthy link takes the 2-byte DISCONNECT at once, and a bound
    // above a minute would approach the keep-alive it is there to replace.
    private static readonly TimeSpan MinimumDisconnectTimeout = TimeSpan.FromSeconds(0.1);
    private static readonly TimeSpan MaximumDisconnectTimeout = TimeSpan.FromSeconds(60);

    private readonly MqttTransportOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LibMosquitto.MosquittoHandle _handle;
    private readonly GCHandle _self;
    // Back-off doublings before the delay stops growing (2^15 × ReconnectDelayMin is past any sensible cap anyway).
    private const int MaxBackoffDoublings = 16;

    private readonly Lock _gate = new();

    // Serialises connect, loop_start and loop_stop; never taken on the library's thread (its callbacks), so a join
    // cannot wait on itself.
    private readonly Lock _lifecycle = new();
    private readonly Dictionary<int, PendingPublish> _pending = [];
    private readonly List<(string Filter, int Qos)> _subscriptions = [];
    private readonly Dictionary<int, string> _subscribing = []; // SUBSCRIBE mid → filter until its SUBACK; guarded by _gate
    private readonly Channel<MqttInboundMessage> _inbound =
        Channel.CreateBounded<MqttInboundMessage>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<MqttStateChangedEventArgs> _events = Channel.CreateUnbounded<MqttStateChangedEventArgs>(new() { SingleReader = true });
    private readonly Task _dispatcher;
    private readonly TimeSpan _ackTimeout;
    private readonly byte[]? _keyPassword; // UTF-8 MqttTlsOptions.KeyPassword, read by OnKeyPassword on the connecting thread
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITimer? _supervisor;          // guarded by _gate; set by Start, taken and disposed by the stop
    private Task? _stopTask;              // guarded by _gate: the stop under way, or the last one
    private Task? _stopWatched;           // guarded by _gate: the stop whose failure, if any, is logged (a caller left it)
    private MqttConnectionState _state = MqttConnectionState.Stopped;
    private int _protocol;
    private bool _everConnected;
    private bool _stopping;
    private bool _restarting;
    private int _outageCount;
    private long _reconnects;
    private int? _lastDisconnectCode;
    private DateTimeOffset _stateSince;
    private long _droppedInbound;
    private string? _lastLibraryError;
    private bool _previousLogWasError;    // the library's last log line was MOSQ_LOG_ERR; written on the library's threads
    private bool _disposed;
    private bool _threadRunning;          // guarded by _lifecycle
    private bool _resetDue;               // guarded by _lifecycle: set by a stop; the next connect first resets the handle state (ResetHandle)
    private MqttLastWill? _will;          // the will of the next CONNECT, set again after mosquitto_reinitialise
    private int _failedConnects;          // guarded by _lifecycle
    private DateTimeOffset _retryConnectAt; // guarded by _lifecycle
    private long _libraryErrors;          // MOSQ_LOG_ERR lines so far; counted on the library's thread
    private long _libraryErrorsAtConnect; // _libraryErrors when connect_async was last issued; guarded by _lifecycle
    private DateTimeOffset? _fatalRestartAt; // when a thread ended by a library error is restarted; guarded by _lifecycle
    private int _fatalRestarts;           // consecutive such restarts, for the back-off; reset on CONNACK success
    private long _brokerMaximumPacketSize; // the last CONNACK's Maximum Packet Size (v5), 0 = none announced
    private string? _lastConnectRefusal;   // the broker's last CONNACK refusal, kept after a later success (health)
    private DateTimeOffset _lastAckAt;     // when the last PUBACK arrived; guarded by _gate
    private readonly ManualResetEventSlim _connectionClosed = new(); // set by every disconnect callback; reset by Disconnect
    private byte[]? _socketIdentity;       // local + peer address of the socket of the last accepted CONNACK; guarded by _gate

    /// <summary>Creates the client (no network activity until <see cref="Start"/>).</summary>
    /// <exception cref="MqttException">libmosquitto is older than 2.0, or rejected an option (its message says which).</exception>
    public unsafe MosquittoTransport(MqttTransportOptions options, ILogger<MosquittoTransport>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _ackTimeout = options.AckTimeout ?? (options.KeepAlive * 2);
        if (options.KeepAlive < TimeSpan.FromSeconds(5))
        {
            throw new ArgumentException($"MQTT keep-alive {options.KeepAlive.TotalSeconds} s is below libmosquitto's minimum of 5 s.", nameof(options));
        }

        if (options.InFlightWindow is < 1 or > 65535)
        {
            throw new ArgumentException($"MQTT in-flight window {options.InFlightWindow} is outside 1–65535.", nameof(options));
        }

        if (options.MaxPacketBytes is < MinimumMaxPacketBytes or > MqttPacketSize.MaximumVariableByteInteger)
        {
            throw new ArgumentException($"MQTT maximum packet size {options.MaxPacketBytes} bytes is outside 1,024–268,435,455.", nameof(options));
        }

        if (options.DisconnectTimeout < MinimumDisconnectTimeout || options.DisconnectTimeout > MaximumDisconnectTimeout)
        {
            throw new ArgumentException($"MQTT disconnect timeout {options.DisconnectTimeout.TotalSeconds} s is outside 0.1–60 s.", nameof(options));
        }

        if (options.Tls is { } tlsFiles)
        {
            // Before any native object exists, so that a bad path leaks nothing.
            CheckTlsFiles(tlsFiles);
        }

        var version = LibraryVersion.Value;
        if (version.Major < 2)
        {
            throw new MqttException($"libmosquitto {version.Major}.{version.Minor}.{version.Revision} is too old; XrfEdge needs 2.0 or later (MQTT 5 callbacks).");
        }

        _self = GCHandle.Alloc(this);
        _handle = LibMosquitto.New(options.ClientId, options.CleanSession, GCHandle.ToIntPtr(_self));
        if (_handle.IsInvalid)
        {
            _self.Free();
            throw new MqttException($"mosquitto_new failed for client id '{options.ClientId}' (out of memory, or an empty id with a persistent session).");
        }

        _protocol = options.Protocol == MqttProtocolVersion.V311 ? LibMosquitto.ProtocolV311 : LibMosquitto.ProtocolV5;
        _keyPassword = options.Tls?.KeyPassword is { } keyPassword ? System.Text.Encoding.UTF8.GetBytes(keyPassword) : null;
        _will = options.LastWill;
        Configure();
        _stateSince = _time.GetUtcNow();
        _dispatcher = Task.Run(DispatchEventsAsync);
    }

    /// <inheritdoc/>
    public event EventHandler<MqttStateChangedEventArgs>? StateChanged;

    /// <inheritdoc/>
    public MqttConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <inheritdoc/>
    public MqttProtocolVersion NegotiatedProtocol => Volatile.Read(ref _protocol) == LibMosquitto.ProtocolV5 ? MqttProtocolVersion.V5 : MqttProtocolVersion.V311;

    /// <inheritdoc/>
    public DateTimeOffset? ConnectedSince
    {
        get
        {
            lock (_gate)
            {
                return _state == MqttConnectionState.Connected ? _stateSince : null;
            }
        }
    }

    /// <inheritdoc/>
    public long ReconnectCount => Interlocked.Read(ref _reconnects);

    /// <inheritdoc/>
    public int? LastDisconnectCode
    {
        get
        {
            lock (_gate)
            {
                return _lastDisconnectCode;
            }
        }
    }

    /// <inheritdoc/>
    public string? LastConnectRefusal => Volatile.Read(ref _lastConnectRefusal);

    /// <summary>
    /// The largest PUBLISH packet sent now, in bytes: the smaller of <see cref="MqttTransportOptions.MaxPacketBytes"/>
    /// and the broker's CONNACK Maximum Packet Size (MQTT 5 only); null when neither sets one.
    /// </summary>
    public long? MaximumPacketBytes => EffectiveLimit().Bytes;

    /// <summary>Inbound messages dropped because nobody read <see cref="Messages"/> (4,096 buffered).</summary>
    public long DroppedInboundMessages => Interlocked.Read(ref _droppedInbound);

    /// <inheritdoc/>
    public ChannelReader<MqttInboundMessage> Messages => _inbound.Reader;

    /// <summary>libmosquitto's version as loaded.</summary>
    public static Version NativeVersion => new(LibraryVersion.Value.Major, LibraryVersion.Value.Minor, LibraryVersion.Value.Revision);

    /// <summary>Replaces the last will used by the next CONNECT (Sparkplug changes bdSeq per connection).</summary>
    public unsafe void SetWill(MqttLastWill will)
    {
        ArgumentNullException.ThrowIfNull(will);
        Volatile.Write(ref _will, will);
        fixed (byte* payload = will.Payload.Span)
        {
            LibMosquitto.Check(LibMosquitto.WillSetV5(_handle, will.Topic, will.Payload.Length, payload, will.Qos, will.Retain, 0), $"last will on '{will.Topic}'");
        }
    }

    /// <summary>
    /// Sets the handle's options and callbacks from the transport's options: once after <c>mosquitto_new</c>, and again after
    /// each <c>mosquitto_reinitialise</c> (<see cref="Start"/>), which resets them all. The protocol is the one in use
    /// (3.1.1 once an Auto connection fell back to it).
    /// </summary>
    private unsafe void Configure()
    {
        LibMosquitto.Check(LibMosquitto.IntOption(_handle, LibMosquitto.OptProtocolVersion, Volatile.Read(ref _protocol)), "protocol version option");
        LibMosquitto.Check(LibMosquitto.IntOption(_handle, LibMosquitto.OptSendMaximum, _options.InFlightWindow), "send-maximum option");
        LibMosquitto.Check(LibMosquitto.IntOption(_handle, LibMosquitto.OptTcpNoDelay, 1), "TCP_NODELAY option");
        if (_options.ReceiveMaximum is { } receiveMaximum)
        {
            LibMosquitto.Check(LibMosquitto.IntOption(_handle, LibMosquitto.OptReceiveMaximum, receiveMaximum), "receive-maximum option");
        }
        if (_options.Username is not null)
        {
            LibMosquitto.Check(LibMosquitto.UsernamePwSet(_handle, _options.Username, _options.Password), "username/password");
        }

        if (_options.Tls is { } tls)
        {
            // With a key file, always our callback: OpenSSL's default asks for the password on the terminal, which a
            // service has not (and a test run from one would block on). No KeyPassword = no password: an encrypted key
            // then fails to load, and the library's error says so.
            var passwordCallback = tls.KeyFile is null ? 0 : (nint)(delegate* unmanaged<byte*, int, int, nint, int>)&OnKeyPassword;
            LibMosquitto.Check(LibMosquitto.TlsSet(_handle, tls.CaFile, null, tls.CertFile, tls.KeyFile, passwordCallback), $"TLS set-up (CA '{tls.CaFile}', cert '{tls.CertFile}', key '{tls.KeyFile}')");

            // cert_reqs 1 = SSL_VERIFY_PEER; insecure=false keeps host name verification on.
            LibMosquitto.Check(LibMosquitto.TlsOptsSet(_handle, 1, tls.TlsVersion, null), "TLS options");
            LibMosquitto.Check(LibMosquitto.TlsInsecureSet(_handle, false), "TLS host name verification");
        }

        if (Volatile.Read(ref _will) is { } will)
        {
            SetWill(will);
        }

        ApplyReconnectDelay(ToWholeSeconds(_options.ReconnectDelayMin));
        LibMosquitto.ConnectV5CallbackSet(_handle, &OnConnect);
        LibMosquitto.DisconnectV5CallbackSet(_handle, &OnDisconnect);
        LibMosquitto.PublishV5CallbackSet(_handle, &OnPublish);
        LibMosquitto.SubscribeV5CallbackSet(_handle, &OnSubscribe);
        LibMosquitto.MessageV5CallbackSet(_handle, &OnMessage);
        LibMosquitto.LogCallbackSet(_handle, &OnLog);
    }

    /// <summary>
    /// Gives a restarted transport the handle state of a new one (called under <c>_lifecycle</c>, no network thread
    /// running): libmosquitto keeps the QoS 1 messages a stop left unanswered and sends them on the next connect of the
    /// same handle, although the stop failed their tasks (<see cref="FailPending"/>) and their callers have sent newer
    /// values in their place. Until 2026-11-24 a transport stopped and started again in one process sent such a message
    /// after the new connect: a status given up at the stop reached the broker and, retained, overwrote the newer one.
    /// </summary>
    /// <remarks>
    /// A QoS 1 message published while the transport was stopped was queued by libmosquitto too, and is dropped with the
    /// rest: its task fails here, never to hang on a PUBACK that cannot come (until 2026-11-24 it was sent at this start).
    /// Called by <see cref="ConnectAndStartThread"/> as the first step of the restart's connect, which reports and retries
    /// an <see cref="MqttException"/> from it (a TLS file that cannot be opened) like a failed connect.
    /// </remarks>
    private void ResetHandle()
    {
        PendingPublish[] dropped;
        lock (_gate)
        {
            // Whether or not the reset and set-up succeed, the library's old state, and the messages it held, are gone.
            var rc = LibMosquitto.Reinitialise(_handle, _options.ClientId, _options.CleanSession, GCHandle.ToIntPtr(_self));
            dropped = [.. _pending.Values];
            _pending.Clear();
            try
            {
                LibMosquitto.Check(rc, $"client reset for restart (client id '{_options.ClientId}')");
                Configure();
            }
            finally
            {
                FailDropped();
            }
        }

        void FailDropped()
        {
            foreach (var p in dropped)
            {
                p.Completion.TrySetException(new MqttException($"The MQTT transport (client id '{_options.ClientId}') was published to while stopped and started again (or while a failed reset of that restart was retried): the message was not sent; publish it again."));
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Allowed on a new transport and on one whose stop has completed; a transport stopped and started again begins with
    /// a fresh libmosquitto client state (<see cref="ResetHandle"/>). Any other start is refused with an
    /// <see cref="InvalidOperationException"/> naming the client id and the state, and changes nothing: until 2026-11-24
    /// (transport review) a start while started set the state to Connecting before it was refused (a connected transport
    /// then read "connecting" until its next reconnect), and a start while no network thread ran (its connects refused)
    /// was accepted and left a second supervisor timer that no stop disposed.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Already started, or a stop whose caller stopped waiting is still under way.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_lifecycle)
        {
            lock (_gate)
            {
                if (_stopTask is { IsCompleted: false })
                {
                    throw new InvalidOperationException($"The MQTT transport (client id '{_options.ClientId}') cannot start: a stop is still under way (its caller stopped waiting); await StopAsync or DisposeAsync first.");
                }

                if (_state != MqttConnectionState.Stopped || _supervisor is not null || _threadRunning)
                {
                    throw new InvalidOperationException($"The MQTT transport (client id '{_options.ClientId}') is already started (state {_state}); stop it first.");
                }

                _stopping = false;
            }

            SetState(MqttConnectionState.Connecting, 0, $"connecting to {_options.Host}:{_options.Port}");
            if (_options.WillProvider is { } provider)
            {
                SetWill(provider());
            }

            _failedConnects = 0;
            ConnectAndStartThread();
            var supervisor = _time.CreateTimer(_ => Supervise(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            lock (_gate)
            {
                _supervisor = supervisor;
            }
        }
    }

    /// <inheritdoc/>
    public async Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        Task wait;
        lock (_gate)
        {
            if (_state == MqttConnectionState.Connected)
            {
                return;
            }

            wait = _connected.Task;
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Subscribe(string topicFilter, int qos)
    {
        lock (_gate)
        {
            _subscriptions.Add((topicFilter, qos));
            if (_state != MqttConnectionState.Connected)
            {
                return;
            }
        }

        // Not connected = NO_CONN and not queued (reference §2.1); on_connect re-subscribes everything.
        SubscribeNow(topicFilter, qos);
    }

    /// <inheritdoc/>
    public unsafe Task<MqttPublishOutcome> PublishAsync(MqttOutboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (message.Qos is < 0 or > 1)
        {
            throw new ArgumentException($"QoS {message.Qos} is not supported (0 or 1).", nameof(message));
        }

        if (RefuseIfTooLarge(message) is { } tooLarge)
        {
            return Task.FromResult(tooLarge);
        }

        nint properties = BuildProperties(message);
        try
        {
            int rc;
            int mid;
            PendingPublish? pending = null;
            fixed (byte* payload = message.Payload.Span)
            {
                // The lock spans the call so a PUBACK cannot overtake the registration of its mid.
                lock (_gate)
                {
                    rc = LibMosquitto.PublishV5(_handle, out mid, message.Topic, message.Payload.Length, payload, message.Qos, message.Retain, properties);
                    if (message.Qos == 1 && rc is LibMosquitto.ErrSuccess or LibMosquitto.ErrNoConn)
                    {
                        // NO_CONN on QoS 1 still queues the message in the library (reference §2.3): its PUBACK decides.
                        pending = new PendingPublish(_time.GetUtcNow());
                        _pending[mid] = pending;
                    }
                }
            }

            if (pending is not null)
            {
                if (cancellationToken.CanBeCanceled)
                {
                    var registration = cancellationToken.Register(() =>
                    {
                        lock (_gate)
                        {
                            _pending.Remove(mid);
                        }

                        pending.Completion.TrySetCanceled(cancellationToken);
                    });
                    _ = pending.Completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
                }

                return pending.Completion.Task;
            }

            if (rc == LibMosquitto.ErrSuccess)
            {
                return Task.FromResult(new MqttPublishOutcome(0, "sent (QoS 0)"));
            }

            if (rc is LibMosquitto.ErrOversizePacket or LibMosquitto.ErrPayloadSize)
            {
                // Normally refused by RefuseIfTooLarge already; kept for a count of libmosquitto's that differs from
                // ours. The message can never be sent on this broker (its CONNACK Maximum Packet Size, or MQTT's
                // 256 MiB), so it is answered like a broker refusal, not thrown: a thrown publish is a hand-over failure
                // that the outbox retries at once, forever and without a log (found 2026-11-23); a refusal is logged,
                // counted and dead-lettered after MaxAttempts.
                return Task.FromResult(new MqttPublishOutcome(
                    LibMosquitto.ReasonPacketTooLarge,
                    $"packet too large: {message.Payload.Length} bytes of payload to '{message.Topic}' exceed the broker's maximum packet size ({LibMosquitto.ErrorText(rc)}, rc {rc})"));
            }

            throw new MqttException($"Publishing to '{message.Topic}' failed: {LibMosquitto.ErrorText(rc)} (rc {rc}).", rc);
        }
        finally
        {
            if (properties != 0)
            {
                LibMosquitto.PropertyFreeAll(ref properties);
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The stop always runs to its end: DISCONNECT, the join of the network thread, state Stopped, unanswered QoS 1
    /// publishes failed. <paramref name="cancellationToken"/> bounds only how long the caller waits for it (it then gets an
    /// <see cref="OperationCanceledException"/> while the stop goes on, and a failure of that stop is logged, error 7071);
    /// a second call, a <see cref="Start"/> (refused meanwhile) and <see cref="DisposeAsync"/> wait for the same stop, so
    /// the handle is never freed under a running network thread. The DISCONNECT waits at most
    /// <see cref="MqttTransportOptions.DisconnectTimeout"/> for the socket (<see cref="DisconnectAndJoin"/>). Until
    /// 2026-11-24 (transport review) an already-cancelled token skipped the join: the transport stayed "Connected" on a
    /// closed link, its QoS 1 tasks waited for ever and a later start was refused.
    /// </remarks>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task stop;
        lock (_gate)
        {
            if (_stopTask is { IsCompleted: false } underWay)
            {
                stop = underWay;
            }
            else if (_state == MqttConnectionState.Stopped && !_everConnected && _supervisor is null)
            {
                return;
            }
            else
            {
                _stopping = true;

                // Off the caller's thread and out of this lock: disposing the supervisor waits for a tick in progress,
                // which takes this lock.
                stop = _stopTask = Task.Run(StopCoreAsync, CancellationToken.None);
            }
        }

        try
        {
            await stop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCompleted)
        {
            LogIfFailedLater(stop);
            throw;
        }
    }

    /// <summary>
    /// The caller stopped waiting for <paramref name="stop"/>, which goes on in the background: if it fails, the failure is
    /// logged (error 7071), once however many callers left it. A later <see cref="StopAsync"/> or <see cref="DisposeAsync"/>
    /// would see it only if one came, and a <see cref="Start"/> discards it: until 2026-11-24 such a failure went unobserved.
    /// </summary>
    private void LogIfFailedLater(Task stop)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_stopWatched, stop))
            {
                return;
            }

            _stopWatched = stop;
        }

        _ = stop.ContinueWith(
            static (failed, state) =>
            {
                var self = (MosquittoTransport)state!;
                Log.BackgroundStopFailed(self._logger, self._options.ClientId, failed.Exception!.GetBaseException());
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task StopCoreAsync()
    {
        ITimer? supervisor;
        lock (_gate)
        {
            supervisor = _supervisor;
            _supervisor = null;
        }

        try
        {
            if (supervisor is not null)
            {
                await supervisor.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            // The network thread is joined and the transport stopped even if the timer's disposal threw: until 2026-11-24
            // such a failure left the thread running and the transport "connected" after its stop.
            StopNetwork();
        }
    }

    private void StopNetwork()
    {
        // DISCONNECT, then loop_stop(false), which joins the network thread; never force (pthread_cancel on a thread that
        // runs managed code). Both under _lifecycle: a restart in progress (the 3.1.1 fallback's, on its own task) either
        // sees _stopping and starts no thread, or has connected before the DISCONNECT. Until 2026-11-24 (second transport
        // review) the DISCONNECT went first, outside the lock: a restart past its stop check then connected after it
        // (connect_async starts a new client state) and the join waited for a thread that never ended.
        StopThread();
        SetState(MqttConnectionState.Stopped, 0, "stopped");
        FailPending(new MqttException("The MQTT transport stopped before the broker acknowledged the message."));
    }

    /// <inheritdoc/>
    /// <remarks>Waits for a stop under way (also one whose caller stopped waiting) before the handle is freed.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _disposed = true;

        // The stop returns at once for a transport that never connected, and fails nothing: a QoS 1 message published
        // while it was stopped (libmosquitto queues it) would otherwise wait for ever (found 2026-11-24, sixth review).
        FailPending(new MqttException($"The MQTT transport (client id '{_options.ClientId}') was disposed before the broker acknowledged the message."));
        _events.Writer.TryComplete();
        await _dispatcher.ConfigureAwait(false);
        _inbound.Writer.TryComplete();
        _handle.Dispose();
        _self.Free();
        _connectionClosed.Dispose();
    }

    private static (int, int, int) InitLibrary()
    {
        // mosquitto_lib_init is the one non-thread-safe call: Lazy<T> runs it once per process.
        LibMosquitto.Check(LibMosquitto.LibInit(), "library initialisation");
        _ = LibMosquitto.LibVersion(out var major, out var minor, out var revision);
        return (major, minor, revision);
    }

    private static int ToWholeSeconds(TimeSpan span) => (int)Math.Max(1, Math.Round(span.TotalSeconds));

    private static MosquittoTransport? FromObj(nint obj) => obj == 0 ? null : GCHandle.FromIntPtr(obj).Target as MosquittoTransport;

    /// <summary>
    /// The cause to report after a library error line. libmosquitto logs its own sentence, then OpenSSL's error queue
    /// oldest first (lib/net_mosq.c, <c>net__print_ssl_error</c>): "Error: Unable to load client key file …", "OpenSSL
    /// Error[0]: … bad decrypt", …, "OpenSSL Error[4]: … PEM lib". The sentence and OpenSSL's first (deepest) error say
    /// what went wrong; the later queue entries only repeat it in more general words, so they are not kept.
    /// </summary>
    internal static string ErrorCause(string? previous, bool previousLineWasError, string line)
    {
        const string OpenSsl = "OpenSSL Error[";
        if (line.StartsWith(OpenSsl, StringComparison.Ordinal) && !line.StartsWith(OpenSsl + "0]", StringComparison.Ordinal) && previous is not null && previousLineWasError)
        {
            return previous;
        }

        if (line.StartsWith(OpenSsl + "0]", StringComparison.Ordinal) && previousLineWasError && previous is not null && !previous.StartsWith(OpenSsl, StringComparison.Ordinal))
        {
            return $"{previous} {line}";
        }

        return line;
    }

    /// <summary>
    /// Checks the TLS files before libmosquitto sees them (it answers only "invalid" for any of them): the CA file is
    /// required; a client certificate and its key come together; each named file must exist and be readable by this
    /// process (the service user under systemd); a key password needs a key.
    /// </summary>
    private static void CheckTlsFiles(MqttTlsOptions tls)
    {
        if (tls.CaFile is null || !File.Exists(tls.CaFile))
        {
            throw new MqttException($"MQTT TLS CA file '{tls.CaFile}' does not exist.");
        }

        if ((tls.CertFile is null) != (tls.KeyFile is null))
        {
            throw new MqttException($"MQTT TLS client certificate and key go together: certificate '{tls.CertFile}', key '{tls.KeyFile}'.");
        }

        if (tls.KeyPassword is not null && tls.KeyFile is null)
        {
            throw new MqttException("MQTT TLS key password given without a key file.");
        }

        foreach (var (what, path) in new[] { ("CA file", tls.CaFile), ("client certificate", tls.CertFile), ("client key", tls.KeyFile) })
        {
            if (path is null)
            {
                continue;
            }

            try
            {
                using var file = File.OpenRead(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                var why = ex is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read by this process ({ex.Message})";
                throw new MqttException($"MQTT TLS {what} '{path}' {why}.", ex);
            }
        }
    }

    /// <summary>
    /// OpenSSL's <c>pem_password_cb</c> for an encrypted client key: copies <see cref="MqttTlsOptions.KeyPassword"/> into
    /// <paramref name="buffer"/> and returns its length in bytes; 0 (no password) when none is set or it does not fit.
    /// <paramref name="mosq"/> is libmosquitto's struct, whose user pointer is our GCHandle.
    /// </summary>
    [UnmanagedCallersOnly]
    private static unsafe int OnKeyPassword(byte* buffer, int size, int rwflag, nint mosq)
    {
        try
        {
            var password = FromObj(LibMosquitto.Userdata(mosq))?._keyPassword;
            if (password is null || password.Length > size)
            {
                return 0;
            }

            password.CopyTo(new Span<byte>(buffer, size));
            return password.Length;
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
            return 0;
        }
    }

    [UnmanagedCallersOnly]
    private static void OnConnect(nint mosq, nint obj, int rc, int flags, nint properties)
    {
        try
        {
            FromObj(obj)?.HandleConnect(rc, properties);
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [UnmanagedCallersOnly]
    private static void OnDisconnect(nint mosq, nint obj, int rc, nint properties)
    {
        try
        {
            FromObj(obj)?.HandleDisconnect(rc);
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [UnmanagedCallersOnly]
    private static void OnPublish(nint mosq, nint obj, int mid, int reasonCode, nint properties)
    {
        try
        {
            FromObj(obj)?.HandlePublished(mid, reasonCode);
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnSubscribe(nint mosq, nint obj, int mid, int qosCount, int* grantedQos, nint properties)
    {
        try
        {
            FromObj(obj)?.HandleSubscribed(mid, qosCount > 0 && grantedQos is not null ? grantedQos[0] : 0);
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [UnmanagedCallersOnly]
    private unsafe static void OnMessage(nint mosq, nint obj, LibMosquitto.MosquittoMessage* message, nint properties)
    {
        try
        {
            FromObj(obj)?.HandleMessage(message, properties);
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [UnmanagedCallersOnly]
    private static void OnLog(nint mosq, nint obj, int level, nint text)
    {
        try
        {
            var self = FromObj(obj);
            if (self is null)
            {
                return;
            }

            // MOSQ_LOG_ERR: keep the library's own words (e.g. OpenSSL's "certificate verify failed") for the state
            // change that follows, since a TLS failure ends the network thread without a disconnect callback.
            var isError = level == LibMosquitto.LogErr;
            if (isError)
            {
                var line = Marshal.PtrToStringUTF8(text) ?? string.Empty;
                Volatile.Write(ref self._lastLibraryError, ErrorCause(Volatile.Read(ref self._lastLibraryError), self._previousLogWasError, line));
                Interlocked.Increment(ref self._libraryErrors);
            }

            self._previousLogWasError = isError;

            if (self._logger.IsEnabled(LogLevel.Trace))
            {
                Log.MosquittoLibraryLog(self._logger, level, Marshal.PtrToStringUTF8(text) ?? string.Empty);
            }
        }
#pragma warning disable CA1031 // An exception escaping into native code would end the process.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private unsafe void HandleConnect(int rc, nint connackProperties)
    {
        if (rc != 0)
        {
            var text = _protocol == LibMosquitto.ProtocolV5 ? LibMosquitto.ReasonText(rc) : LibMosquitto.ConnackText(rc);

            // 0x84 = v5 "Unsupported Protocol Version": libmosquitto maps a 3.1.1 broker's v3 CONNACK "unacceptable
            // protocol version" to it (lib/handle_connack.c), then ends the network thread with MOSQ_ERR_PROTOCOL.
            if (_options.Protocol == MqttProtocolVersion.Auto && _protocol == LibMosquitto.ProtocolV5 && rc is 0x84 or 1)
            {
                Volatile.Write(ref _protocol, LibMosquitto.ProtocolV311);
                _ = LibMosquitto.IntOption(_handle, LibMosquitto.OptProtocolVersion, LibMosquitto.ProtocolV311);
                SetState(MqttConnectionState.Disconnected, rc, $"connection refused: {text} — falling back to MQTT 3.1.1");

                // Restart the thread from outside this callback (loop_stop joins the thread we are running on).
                _ = Task.Run(() =>
                {
                    try
                    {
                        RestartNetworkThread();
                    }
#pragma warning disable CA1031 // Background restart: failures are logged and the supervisor retries.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        Log.SupervisorFailed(_logger, ex);
                    }
                });
                return;
            }

            // Named again at every later attempt: the state stays Disconnected, so SetState logs only the first refusal,
            // and libmosquitto ends its thread on an MQTT 5 refusal (MOSQ_ERR_PROTOCOL), whose restart log (7005) and
            // disconnect description take the cause from _lastLibraryError. Until 2026-11-24 only the first refusal was
            // named; a journal read later said "network thread restarted" every few minutes and never why.
            var refusal = $"connection refused: {text} (CONNACK {rc}, 0x{rc:X2})";
            Volatile.Write(ref _lastConnectRefusal, refusal);
            Volatile.Write(ref _lastLibraryError, refusal);
            if (!SetState(MqttConnectionState.Disconnected, rc, $"connection refused: {text}"))
            {
                Log.ConnectionRefusedAgain(_logger, _options.ClientId, rc, refusal);
            }

            return;
        }

        // Absent (no limit) on every 3.1.1 CONNACK, and on a v5 broker without max_packet_size.
        Volatile.Write(ref _brokerMaximumPacketSize, LibMosquitto.ReadInt32(connackProperties, LibMosquitto.PropMaximumPacketSize) ?? 0);
        (string Filter, int Qos)[] subscriptions;
        lock (_gate)
        {
            if (_everConnected)
            {
                _reconnects++;
            }

            _everConnected = true;
            subscriptions = [.. _subscriptions];
            _subscribing.Clear(); // no SUBACK of an earlier connection can still come

        }

        foreach (var (filter, qos) in subscriptions)
        {
            SubscribeNow(filter, qos);
        }

        foreach (var birth in _options.BirthMessages)
        {
            nint properties = BuildProperties(birth);
            fixed (byte* payload = birth.Payload.Span)
            {
                _ = LibMosquitto.PublishV5(_handle, out _, birth.Topic, birth.Payload.Length, payload, birth.Qos, birth.Retain, properties);
            }

            if (properties != 0)
            {
                LibMosquitto.PropertyFreeAll(ref properties);
            }
        }

        var identity = LibC.SocketIdentity(LibMosquitto.Socket(_handle));
        lock (_gate)
        {
            _socketIdentity = identity;
        }

        Volatile.Write(ref _lastLibraryError, null);
        Volatile.Write(ref _fatalRestarts, 0);
        SetState(MqttConnectionState.Connected, 0, $"connected to {_options.Host}:{_options.Port} (MQTT {(_protocol == LibMosquitto.ProtocolV5 ? "5" : "3.1.1")})");
    }

    /// <summary>
    /// The one size rule for every publish (outbox rows, status, health, discovery, command replies): a PUBLISH packet
    /// larger than <see cref="EffectiveLimit"/> is not handed to libmosquitto and completes as refused with 0x95, what
    /// a broker answers for it under MQTT 5. An MQTT 3.1.1 broker cannot say so: it drops the message and acknowledges
    /// it, or disconnects us (mosquitto's message_size_limit, max_packet_size; docs/mqtt.md "Payload size limits").
    /// </summary>
    private MqttPublishOutcome? RefuseIfTooLarge(MqttOutboundMessage message)
    {
        var (limit, source) = EffectiveLimit();
        if (limit is not { } bytes)
        {
            return null;
        }

        var v5 = Volatile.Read(ref _protocol) == LibMosquitto.ProtocolV5;
        var size = MqttPacketSize.Publish(message, v5);
        if (size <= bytes)
        {
            return null;
        }

        return new MqttPublishOutcome(
            LibMosquitto.ReasonPacketTooLarge,
            $"packet too large: the MQTT {(v5 ? "5" : "3.1.1")} PUBLISH to '{message.Topic}' is {size} bytes ({message.Payload.Length} bytes of payload), over the limit of {bytes} bytes ({source}); not sent");
    }

    /// <summary>The smaller of our <see cref="MqttTransportOptions.MaxPacketBytes"/> and the broker's announced maximum, and which one it is.</summary>
    private (long? Bytes, string Source) EffectiveLimit()
    {
        var broker = Volatile.Read(ref _brokerMaximumPacketSize);
        return (_options.MaxPacketBytes, broker) switch
        {
            (null, 0) => (null, "none"),
            (null, _) => (broker, "the broker's Maximum Packet Size"),
            ({ } own, 0) => (own, "MaxPacketBytes"),
            ({ } own, _) when own <= broker => (own, $"MaxPacketBytes; the broker's Maximum Packet Size is {broker}"),
            (_, _) => (broker, $"the broker's Maximum Packet Size; MaxPacketBytes is {_options.MaxPacketBytes}"),
        };
    }

    /// <summary>
    /// libmosquitto hands on_disconnect_v5 either one of its own error numbers (MOSQ_ERR_*, all below 0x80) or, when the
    /// broker sent an MQTT 5 DISCONNECT, that packet's reason code (MQTT 5.0 §3.14.2.1: a server sends 0x00 or 0x80 and
    /// above; the library's numbers are 1–31 in mosquitto.h 2.0, and 0 after our own disconnect). Until 2026-11-24 the
    /// reason was described as a library error: 0x8E read "Unknown error", 0x00 "No error".
    /// </summary>
    private const int FirstServerReasonCode = 0x80;

    /// <summary>MQTT 5.0 §3.14.2.1 0x8E "Session taken over": another connection with the same client id.</summary>
    private const int SessionTakenOverReason = 0x8E;

    private void HandleDisconnect(int rc)
    {
        // libmosquitto calls this once it has closed the socket (net__socket_close, then the callback): our DISCONNECT was
        // written, or the connection ended otherwise. Disconnect waits for it.
        _connectionClosed.Set();
        bool stopping;
        DateTimeOffset connectedSince;
        lock (_gate)
        {
            stopping = _stopping || _restarting;
            connectedSince = _stateSince;
            // 0 outside our own disconnect (Stop, a restart: both set the flags above first) is the broker's DISCONNECT
            // with reason 0x00 "Normal disconnection", which MQTT 5.0 §3.14.2.1 lets a server send: the link still ended.
            if (rc != 0 || !stopping)
            {
                _lastDisconnectCode = rc;
            }
        }

        if (stopping)
        {
            return;
        }

        // Capped exponential back-off with jitter: libmosquitto grows the delay as base·(n+1)² up to the cap within one
        // outage; the base itself doubles per outage (reset after a stable connection) and is jittered ±50 % so a fleet
        // that lost the same broker does not reconnect in lock-step.
        var stable = _time.GetUtcNow() - connectedSince > _options.ReconnectDelayMax;
        _outageCount = stable ? 1 : Math.Min(_outageCount + 1, MaxBackoffDoublings);
        ApplyReconnectDelay((int)Math.Round(BackoffSeconds(_outageCount, floorSeconds: 1)));
        if (_options.WillProvider is { } provider)
        {
            SetWill(provider());
        }

        var description = rc switch
        {
            >= FirstServerReasonCode => $"{LibMosquitto.ReasonText(rc)} (the broker's DISCONNECT reason 0x{rc:X2})",
            0 => "Normal disconnection (the broker's DISCONNECT reason 0x00)", // until 2026-11-24: "No error"
            _ => Describe(rc),
        };
        SetState(MqttConnectionState.Disconnected, rc, description);
    }

    private void HandlePublished(int mid, int reasonCode)
    {
        PendingPublish? pending;
        lock (_gate)
        {
            // Only a PUBACK counts for the frozen-broker check: libmosquitto calls on_publish for a QoS 0 message when it
            // is written to the socket, which the kernel accepts from a frozen broker until its buffers fill, so the
            // QoS 0 health every period kept the check from ever firing (until 2026-11-24, second review).
            if (_pending.Remove(mid, out pending))
            {
                _lastAckAt = _time.GetUtcNow();
            }
        }

        var text = reasonCode == 0 ? "success" : LibMosquitto.ReasonText(reasonCode);
        pending?.Completion.TrySetResult(new MqttPublishOutcome(reasonCode, text));
    }

    /// <summary>
    /// SUBSCRIBE for one filter; its mid is registered under <see cref="_gate"/> across the call, so the SUBACK (read
    /// on the library's thread) cannot overtake the registration.
    /// </summary>
    private void SubscribeNow(string filter, int qos)
    {
        lock (_gate)
        {
            if (LibMosquitto.SubscribeV5(_handle, out var mid, filter, qos, 0, 0) == LibMosquitto.ErrSuccess)
            {
                _subscribing[mid] = filter;
            }
        }
    }

    /// <summary>
    /// A SUBACK: a granted QoS of 0x80 or more is the broker's refusal (MQTT 5.0 §3.9.3: 0x87 not authorized, …; 3.1.1
    /// §3.9.3: 0x80 failure), e.g. an ACL that does not let this client read its command topics. Nothing sent there will
    /// arrive, so it is logged (7010) at every connect; until 2026-11-24 nobody read the SUBACK.
    /// </summary>
    private void HandleSubscribed(int mid, int granted)
    {
        string? filter;
        lock (_gate)
        {
            _subscribing.Remove(mid, out filter);
        }

        if (granted < 0x80 || filter is null)
        {
            return;
        }

        var reason = _protocol == LibMosquitto.ProtocolV5 ? LibMosquitto.ReasonText(granted) : "Failure (MQTT 3.1.1 has no reason)";
        Log.SubscriptionRefused(_logger, _options.ClientId, filter, granted, reason);
    }

    private unsafe void HandleMessage(LibMosquitto.MosquittoMessage* message, nint properties)
    {
        var expiry = LibMosquitto.ReadInt32(properties, LibMosquitto.PropMessageExpiryInterval);
        var inbound = new MqttInboundMessage
        {
            Topic = Marshal.PtrToStringUTF8(message->Topic) ?? string.Empty,
            Payload = message->PayloadLength > 0 ? new ReadOnlySpan<byte>((void*)message->Payload, message->PayloadLength).ToArray() : [],
            Qos = message->Qos,
            Retain = message->Retain != 0,
            ResponseTopic = LibMosquitto.ReadString(properties, LibMosquitto.PropResponseTopic),
            CorrelationData = LibMosquitto.ReadBinary(properties, LibMosquitto.PropCorrelationData),
            ContentType = LibMosquitto.ReadString(properties, LibMosquitto.PropContentType),
            MessageExpiry = expiry is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            UserProperties = [.. LibMosquitto.ReadUserProperties(properties).Select(p => new MqttUserProperty(p.Key, p.Value))],
            ReceivedAt = _time.GetUtcNow(),
        };
        if (!_inbound.Writer.TryWrite(inbound))
        {
            Interlocked.Increment(ref _droppedInbound);
        }
    }

    private unsafe nint BuildProperties(MqttOutboundMessage message)
    {
        if (_protocol != LibMosquitto.ProtocolV5)
        {
            return 0;
        }

        nint list = 0;
        try
        {
            if (message.ContentType is { } contentType)
            {
                LibMosquitto.Check(LibMosquitto.PropertyAddString(ref list, LibMosquitto.PropContentType, contentType), "content-type property");
            }

            if (message.ResponseTopic is { } responseTopic)
            {
                LibMosquitto.Check(LibMosquitto.PropertyAddString(ref list, LibMosquitto.PropResponseTopic, responseTopic), "response-topic property");
            }

            if (message.CorrelationData is { } correlation)
            {
                if (correlation.Length > ushort.MaxValue)
                {
                    throw new ArgumentException($"Correlation data of {correlation.Length} bytes exceeds 65,535.", nameof(message));
                }

                fixed (byte* data = correlation.Span)
                {
                    LibMosquitto.Check(LibMosquitto.PropertyAddBinary(ref list, LibMosquitto.PropCorrelationData, data, (ushort)correlation.Length), "correlation-data property");
                }
            }

            if (message.MessageExpiry is { } expiry)
            {
                LibMosquitto.Check(LibMosquitto.PropertyAddInt32(ref list, LibMosquitto.PropMessageExpiryInterval, (uint)Math.Max(1, expiry.TotalSeconds)), "message-expiry property");
            }

            foreach (var user in message.UserProperties)
            {
                LibMosquitto.Check(LibMosquitto.PropertyAddStringPair(ref list, LibMosquitto.PropUserProperty, user.Name, user.Value), "user property");
            }

            return list;
        }
        catch
        {
            if (list != 0)
            {
                LibMosquitto.PropertyFreeAll(ref list);
            }

            throw;
        }
    }

    /// <summary>
    /// ReconnectDelayMin · 2^(attempt−1), jittered ±50 % so a fleet that lost the same broker does not retry in
    /// lock-step, clamped to [<paramref name="floorSeconds"/>, ReconnectDelayMax].
    /// </summary>
    private double BackoffSeconds(int attempt, double floorSeconds)
    {
        var jitter = 0.5 + (RandomNumberGenerator.GetInt32(1001) / 1000.0);
        var capSeconds = Math.Max(_options.ReconnectDelayMax.TotalSeconds, floorSeconds);
        return Math.Clamp(_options.ReconnectDelayMin.TotalSeconds * Math.Pow(2, attempt - 1) * jitter, floorSeconds, capSeconds);
    }

    private void ApplyReconnectDelay(int baseSeconds)
    {
        var max = Math.Max(baseSeconds, ToWholeSeconds(_options.ReconnectDelayMax));
        _ = LibMosquitto.ReconnectDelaySet(_handle, (uint)baseSeconds, (uint)max, true);
    }

    private void Supervise()
    {
        try
        {
            var now = _time.GetUtcNow();
            MqttConnectionState state;
            DateTimeOffset since;
            DateTimeOffset? oldestPending = null;
            DateTimeOffset lastAck;
            lock (_gate)
            {
                lastAck = _lastAckAt;
                if (_stopping || _restarting)
                {
                    return;
                }

                state = _state;
                since = _stateSince;
                foreach (var pending in _pending.Values)
                {
                    if (oldestPending is null || pending.SentAt < oldestPending)
                    {
                        oldestPending = pending.SentAt;
                    }
                }
            }

            var restartEndedThread = false;
            lock (_lifecycle)
            {
                // P1: connect_async failed at once (refused, DNS, TLS set-up) and no thread exists to retry it. The
                // connect just issued has had no time to fail, so nothing else is checked until the next tick.
                if (!_threadRunning && now >= _retryConnectAt)
                {
                    ConnectAndStartThread();
                    return;
                }

                if (state == MqttConnectionState.Connected)
                {
                    // Errors logged before this connection (one the thread recovered from by itself) are settled.
                    _libraryErrorsAtConnect = Interlocked.Read(ref _libraryErrors);
                    _fatalRestartAt = null;
                }
                else if (_threadRunning && Interlocked.Read(ref _libraryErrors) > _libraryErrorsAtConnect)
                {
                    // P2, fast path: the library logged an error since our last connect and no connection followed.
                    // The errors it logs at that level (OpenSSL's handshake failures above all) are the ones that end
                    // its thread, so report the cause now and restart after the back-off instead of waiting for the
                    // watchdog below. A thread that was in fact still alive is told to disconnect before the restart.
                    if (_fatalRestartAt is not { } at)
                    {
                        var delay = TimeSpan.FromSeconds(BackoffSeconds(Math.Min(Interlocked.Increment(ref _fatalRestarts), MaxBackoffDoublings), floorSeconds: 1));
                        _fatalRestartAt = now + delay;
                        var cause = Volatile.Read(ref _lastLibraryError) ?? "unknown library error";
                        Log.NetworkThreadEnded(_logger, cause, delay.TotalSeconds);
                        SetState(MqttConnectionState.Disconnected, LibMosquitto.ErrConnLost, $"network thread ended on: {cause}; retrying in {delay.TotalSeconds:F0} s");
                        return;
                    }

                    restartEndedThread = now >= at;
                    if (!restartEndedThread)
                    {
                        return;
                    }
                }
            }

            if (restartEndedThread)
            {
                Log.NetworkThreadRestarted(_logger, (now - since).TotalSeconds, Volatile.Read(ref _lastLibraryError) ?? "none logged by libmosquitto");
                RestartNetworkThread();
                return;
            }

            if (state == MqttConnectionState.Connected && oldestPending is { } oldest)
            {
                // Measured from the latest of send, connect and the last PUBACK: messages queued while offline wait for
                // the link, not the broker, and a broker whose PUBACKs keep coming is not frozen, however long the last
                // of a window waits behind the others on a slow uplink. Until 2026-11-24 the last PUBACK was not counted:
                // ten 20 KiB messages on a 20 KiB/s link were taken for a frozen broker and sent again from the start.
                var waiting = now - Latest(oldest, since, lastAck);
                if (waiting > _ackTimeout)
                {
                    Log.BrokerFrozen(_logger, waiting.TotalSeconds);
                    RestartNetworkThread();
                }
            }
            else if (state is MqttConnectionState.Disconnected or MqttConnectionState.Connecting
                && now - since > (2 * _options.ReconnectDelayMax) + (2 * _options.KeepAlive))
            {
                // P2: the loop thread ends for good on "fatal" errors (TLS, protocol, …); restart it.
                Log.NetworkThreadRestarted(_logger, (now - since).TotalSeconds, Volatile.Read(ref _lastLibraryError) ?? "none logged by libmosquitto");
                RestartNetworkThread();
            }
        }
#pragma warning disable CA1031 // A timer callback must never throw; the next tick retries.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SupervisorFailed(_logger, ex);
        }
    }

    private static DateTimeOffset Latest(DateTimeOffset a, DateTimeOffset b, DateTimeOffset c) => a > b ? (a > c ? a : c) : (b > c ? b : c);

    private void RestartNetworkThread()
    {
        lock (_lifecycle)
        {
            lock (_gate)
            {
                if (_stopping)
                {
                    return;
                }

                _restarting = true;
            }

            try
            {
                DisconnectAndJoin();
                var cause = Volatile.Read(ref _lastLibraryError);
                SetState(MqttConnectionState.Disconnected, LibMosquitto.ErrKeepalive, cause is null ? "restarting the network thread" : $"restarting the network thread after: {cause}");
            }
            finally
            {
                lock (_gate)
                {
                    _restarting = false;

                    // The watchdog measures from the last restart: the state may not change (Disconnected stays
                    // Disconnected), and without this a fast-path restart could be followed by a watchdog one.
                    _stateSince = _time.GetUtcNow();
                }
            }

            // A new CONNECT, so a new will: the disconnect callback, which asks the provider after every other lost
            // connection, returned early above (_restarting). Until 2026-11-24 this CONNECT carried the previous one's
            // will, and Sparkplug's NDEATH the bdSeq of the abandoned connection, which the new NBIRTH then repeated.
            if (_options.WillProvider is { } provider)
            {
                SetWill(provider());
            }

            // P3: the thread has been joined; connect first, then start a new one.
            _failedConnects = 0;
            ConnectAndStartThread();
        }
    }

    /// <summary>
    /// connect_async with no network thread running, then loop_start. A failed connect leaves no thread; the supervisor
    /// retries it after a back-off (P1). Caller holds <see cref="_lifecycle"/>.
    /// </summary>
    private void ConnectAndStartThread()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }
        }

        BeforeConnectForTest?.Invoke();
        if (_resetDue)
        {
            // Until 2026-11-24 (sixth review) Start reset the handle itself and threw when that failed: a TLS file briefly
            // away at a restart (mosquitto_tls_set opens the CA file at once) left the transport "connecting", with no
            // supervisor, for good. Before the reset existed the files were read at the connect, whose failure the
            // supervisor retries (P1); so is a failed reset now, which also leaves the handle half set up.
            try
            {
                ResetHandle();
                _resetDue = false;
            }
            catch (MqttException ex)
            {
                _failedConnects = Math.Min(_failedConnects + 1, MaxBackoffDoublings);
                _retryConnectAt = _time.GetUtcNow() + TimeSpan.FromSeconds(BackoffSeconds(_failedConnects, floorSeconds: 0.5));
                SetState(MqttConnectionState.Disconnected, ex.ErrorCode, $"restart of the client failed, retrying: {ex.Message}");
                return;
            }
        }

        // connect_async (not reconnect_async) every time: it also re-creates the wake-up socket pair, safe here
        // because no thread is using it.
        _libraryErrorsAtConnect = Interlocked.Read(ref _libraryErrors);
        _fatalRestartAt = null;
        var rc = LibMosquitto.ConnectAsync(_handle, _options.Host, _options.Port, ToWholeSeconds(_options.KeepAlive));
        if (rc == LibMosquitto.ErrSuccess)
        {
            LibMosquitto.Check(LibMosquitto.LoopStart(_handle), "network thread start");
            _threadRunning = true;
            _failedConnects = 0;
            return;
        }

        // e.g. refused at once on a local port, a DNS failure or a TLS set-up error.
        _failedConnects = Math.Min(_failedConnects + 1, MaxBackoffDoublings);
        _retryConnectAt = _time.GetUtcNow() + TimeSpan.FromSeconds(BackoffSeconds(_failedConnects, floorSeconds: 0.5));
        SetState(MqttConnectionState.Disconnected, rc, Describe(rc));
    }

    /// <summary>
    /// Test seam: runs on the connecting thread between the connect's stop check and its connect_async (under
    /// <c>_lifecycle</c>), so a test can hold a restart (the MQTT 3.1.1 fallback's, on a task of its own) in the window
    /// in which a stop used to send its DISCONNECT unseen (2026-11-24, second transport review).
    /// </summary>
    internal Action? BeforeConnectForTest { get; set; }

    /// <summary>
    /// Test seam: runs on the stopping thread right after a stop's or restart's <c>mosquitto_disconnect</c> (under
    /// <c>_lifecycle</c>), so a test can let a connect that libmosquitto's thread holds complete after it.
    /// </summary>
    internal Action? AfterDisconnectForTest { get; set; }

    private void StopThread()
    {
        lock (_lifecycle)
        {
            DisconnectAndJoin();

            // The next start, and only a start after a stop, begins with a fresh handle state, as the first step of its
            // connect (ConnectAndStartThread), so that a reset that fails is reported and retried like a failed connect.
            // Until 2026-11-24 (sixth review) a Start repeated without a stop (its first connect refused, so no thread
            // refused the call) reset it too, dropping the QoS 1 messages queued for the broker's return.
            _resetDue = true;
        }
    }

    /// <summary>
    /// DISCONNECT, then the join of the network thread (caller holds <see cref="_lifecycle"/>). libmosquitto queues the
    /// DISCONNECT for its thread, which closes the socket once the packet is written; a DISCONNECT behind a full send
    /// buffer (a frozen broker's kernel still accepts TCP until its buffers fill; a dead link accepts nothing) is never
    /// written, and the thread ends only when its keep-alive check closes the socket: the join then took up to the whole
    /// keep-alive (30.0 s measured with the default 30 s, 2026-11-24; docs/mqtt.md "Stop against a frozen broker"), beyond
    /// the stop budget of the service. So after <see cref="MqttTransportOptions.DisconnectTimeout"/> the socket is shut
    /// down from here (<see cref="ShutDownSocket"/>): the thread wakes, reads end of file, closes it and ends. A thread
    /// still alive <see cref="MqttTransportOptions.DisconnectTimeout"/> into the join is sent the DISCONNECT again, as
    /// often as it takes (warning 7073).
    /// </summary>
    /// <remarks>
    /// The wait is real time, not <see cref="_time"/>: it bounds the kernel's socket, not a schedule of ours. Never
    /// <c>loop_stop(force)</c>, whose pthread_cancel would end a thread that runs managed code.
    /// </remarks>
    private void DisconnectAndJoin()
    {
        Disconnect(logNotWritten: true);
        if (!_threadRunning)
        {
            return;
        }

        // The join runs apart so that this thread can tell the network thread again while it lives on: libmosquitto's
        // own reconnect (lib/loop.c, mosquitto_loop_forever → mosquitto__reconnect in lib/connect.c) sets the state to
        // "connect pending" when its connect fails, or "connected" when it succeeds, over the "disconnected" our
        // DISCONNECT set, and drops the DISCONNECT still queued at its next attempt; the thread then reconnected for ever
        // and the join never returned (until 2026-11-24, second review: a stop while the thread's connect was under way,
        // as on a dead uplink or at a broker restart; FrozenBrokerStopTests). Each DISCONNECT sets the state again, and
        // the thread ends at its next look at it: after its connect, or after the reconnect delay at the latest.
        var join = Task.Factory.StartNew(
            static handle => LibMosquitto.LoopStop((LibMosquitto.MosquittoHandle)handle!, false),
            _handle,
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        var warned = false;
        while (!join.Wait(_options.DisconnectTimeout))
        {
            if (!warned)
            {
                Log.NetworkThreadOutlivedDisconnect(_logger, _options.ClientId, _options.DisconnectTimeout.TotalSeconds);
                warned = true;
            }

            Disconnect(logNotWritten: false);
        }

        _threadRunning = false;
    }

    /// <summary>
    /// Sends a DISCONNECT and, when libmosquitto took it for a socket, waits <see cref="MqttTransportOptions.DisconnectTimeout"/>
    /// for the disconnect callback before shutting that socket down (<see cref="ShutDownSocket"/>); warning 7072 when it had
    /// to and <paramref name="logNotWritten"/>. Caller holds <see cref="_lifecycle"/>.
    /// </summary>
    private void Disconnect(bool logNotWritten)
    {
        _connectionClosed.Reset();
        var rc = LibMosquitto.DisconnectV5(_handle, 0, 0);
        AfterDisconnectForTest?.Invoke();

        // Anything but success: no socket (closed already, or a connect under way), nothing to wait for.
        if (_threadRunning && rc == LibMosquitto.ErrSuccess && !_connectionClosed.Wait(_options.DisconnectTimeout))
        {
            var shut = ShutDownSocket();
            if (logNotWritten)
            {
                Log.DisconnectNotWritten(
                    _logger,
                    _options.ClientId,
                    _options.DisconnectTimeout.TotalSeconds,
                    shut ? "socket shut down; messages the broker had not acknowledged stay unacknowledged" : $"socket not found or not the connection's own; waiting for the keep-alive ({_options.KeepAlive.TotalSeconds:F0} s) to end it");
            }
        }
    }

    /// <summary>
    /// Shuts down the socket of the connection whose CONNACK we last accepted, under libmosquitto's thread, which then
    /// closes it. The descriptor is read unlocked and the thread may close it meanwhile, and the number be reused by
    /// another socket of this process (the Sparkplug transport's, say); so the check is made on a duplicate, which keeps
    /// its socket alive: only a socket with the recorded local and peer address is shut down. False when none was.
    /// </summary>
    private bool ShutDownSocket()
    {
        byte[]? expected;
        lock (_gate)
        {
            expected = _socketIdentity;
        }

        var fd = LibMosquitto.Socket(_handle);
        if (expected is null || fd < 0)
        {
            return false;
        }

        var copy = LibC.Dup(fd);
        if (copy < 0)
        {
            return false;
        }

        try
        {
            return LibC.SocketIdentity(copy) is { } identity && identity.AsSpan().SequenceEqual(expected) && LibC.Shutdown(copy, LibC.ShutReadWrite) == 0;
        }
        finally
        {
            _ = LibC.Close(copy);
        }
    }

    private string Describe(int rc)
    {
        var cause = Volatile.Read(ref _lastLibraryError);
        return cause is null ? LibMosquitto.ErrorText(rc) : $"{LibMosquitto.ErrorText(rc)} (library: {cause})";
    }

    /// <summary>Changes the state and reports it (logged by the dispatcher); false when it already was <paramref name="state"/>.</summary>
    private bool SetState(MqttConnectionState state, int code, string description)
    {
        lock (_gate)
        {
            if (state == _state)
            {
                return false;
            }

            _state = state;
            _stateSince = _time.GetUtcNow();
            if (state == MqttConnectionState.Connected)
            {
                _connected.TrySetResult();
            }
            else if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        _events.Writer.TryWrite(new MqttStateChangedEventArgs(state, code, description));
        return true;
    }

    private void FailPending(Exception error)
    {
        PendingPublish[] pending;
        lock (_gate)
        {
            pending = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var p in pending)
        {
            p.Completion.TrySetException(error);
        }
    }

    private async Task DispatchEventsAsync()
    {
        await foreach (var change in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            switch (change.State)
            {
                case MqttConnectionState.Connected:
                    Log.MqttConnected(_logger, _options.ClientId, change.Description);
                    break;
                case MqttConnectionState.Disconnected:
                    Log.MqttDisconnected(_logger, _options.ClientId, change.Code, change.Description);
                    if (change.Code == SessionTakenOverReason)
                    {
                        Log.MqttSessionTakenOver(_logger, _options.ClientId, change.Description);
                    }

                    break;
                default:
                    Log.MqttStateChanged(_logger, _options.ClientId, change.State, change.Description);
                    break;
            }

            try
            {
                StateChanged?.Invoke(this, change);
            }
#pragma warning disable CA1031 // A subscriber's bug must not stop state notifications.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.StateHandlerFailed(_logger, ex);
            }
        }
    }

    private sealed class PendingPublish(DateTimeOffset sentAt)
    {
        public DateTimeOffset SentAt { get; } = sentAt;

        public TaskCompletionSource<MqttPublishOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

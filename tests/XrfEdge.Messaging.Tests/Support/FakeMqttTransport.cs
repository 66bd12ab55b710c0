using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Publishing;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A transport without a broker for the drainer tests: connected from the start (the test switches the link with
/// <see cref="Connect"/> and <see cref="Disconnect"/>), and each publish either throws what <see cref="Throw"/> says or
/// is answered with the next reason of <see cref="Answers"/> (0, success, once they run out), after
/// <see cref="AnswerDelay"/>.
/// </summary>
public sealed class FakeMqttTransport : IMqttTransport
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset? _connectedSince;
    private readonly Channel<MqttInboundMessage> _inbound = Channel.CreateUnbounded<MqttInboundMessage>();

    public FakeMqttTransport() => Connect();

    /// <summary>PUBACK reasons to answer with, in order; 0 once empty.</summary>
    public ConcurrentQueue<int> Answers { get; } = new();

    /// <summary>
    /// How long each answer takes; zero answers at once. A real broker's answers arrive one by one, so the drainer's
    /// acknowledgement loop sees them in separate passes; answered at once they all fall into one.
    /// </summary>
    public TimeSpan AnswerDelay { get; init; }

    /// <summary>
    /// How many of the next publishes the test answers itself, through <see cref="Held"/>; each publish so held counts one
    /// down. Their continuations run inline on the test's thread when it answers, so the drainer has seen the answer when
    /// <see cref="TaskCompletionSource{TResult}.TrySetResult"/> returns.
    /// </summary>
    public int HoldNext { get; set; }

    /// <summary>The publishes held for the test to answer (<see cref="HoldNext"/>), in order.</summary>
    public ConcurrentQueue<TaskCompletionSource<MqttPublishOutcome>> Held { get; } = new();

    /// <summary>The exception a publish throws instead of being answered, or null to answer it.</summary>
    public Func<MqttOutboundMessage, Exception?> Throw { get; set; } = _ => null;

    /// <summary>The reason <see cref="Attempts"/> records for a publish held for the test to answer (<see cref="HoldNext"/>).</summary>
    public const int HeldReason = -1;

    /// <summary>Every publish tried, in order, with the reason it was answered (null: it threw; <see cref="HeldReason"/>: held).</summary>
    public ConcurrentQueue<(string Topic, int? Reason)> Attempts { get; } = new();

    /// <summary>Every message handed to <see cref="PublishAsync"/>, in order, whatever became of it.</summary>
    public ConcurrentQueue<MqttOutboundMessage> Handed { get; } = new();

    /// <summary>Topics of the publishes accepted (reason 0), in order.</summary>
    public IEnumerable<string> Delivered => Attempts.Where(a => a.Reason == 0).Select(a => a.Topic);

    public MqttConnectionState State => ConnectedSince is null ? MqttConnectionState.Connecting : MqttConnectionState.Connected;

    public MqttProtocolVersion NegotiatedProtocol => MqttProtocolVersion.V5;

    public DateTimeOffset? ConnectedSince
    {
        get
        {
            lock (_gate)
            {
                return _connectedSince;
            }
        }
    }

    public long ReconnectCount => 0;

    public int? LastDisconnectCode => null;

    /// <summary>Raised only by <see cref="RaiseStateChanged"/>: <see cref="Connect"/> and <see cref="Disconnect"/> leave it alone.</summary>
    public event EventHandler<MqttStateChangedEventArgs>? StateChanged;

    public ChannelReader<MqttInboundMessage> Messages => _inbound.Reader;

    /// <summary>Hands <paramref name="topic"/> with <paramref name="payload"/> to the subscriber as if the broker sent it.</summary>
    public void Receive(string topic, byte[] payload) =>
        _inbound.Writer.TryWrite(new MqttInboundMessage { Topic = topic, Payload = payload, ReceivedAt = DateTimeOffset.UtcNow });

    /// <summary>Raises <see cref="StateChanged"/> with <paramref name="state"/>, as the real transport does after a (re)connect.</summary>
    public void RaiseStateChanged(MqttConnectionState state) => StateChanged?.Invoke(this, new MqttStateChangedEventArgs(state, 0, "raised by the test"));

    // Rows stored before this instant count as historical; irrelevant to most drainer tests.
    public void Connect() => ConnectAt(DateTimeOffset.UtcNow.AddDays(-1));

    /// <summary>Connected, with <see cref="ConnectedSince"/> = <paramref name="since"/> (what decides historical).</summary>
    public void ConnectAt(DateTimeOffset since)
    {
        lock (_gate)
        {
            _connectedSince = since;
            _connected.TrySetResult();
        }
    }

    public void Disconnect()
    {
        lock (_gate)
        {
            _connectedSince = null;
            if (_connected.Task.IsCompleted)
            {
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public void Start()
    {
    }

    public Task WaitConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _connected.Task.WaitAsync(cancellationToken);
        }
    }

    public void Subscribe(string topicFilter, int qos)
    {
    }

    public Task<MqttPublishOutcome> PublishAsync(MqttOutboundMessage message, CancellationToken cancellationToken)
    {
        Handed.Enqueue(message);
        if (Throw(message) is { } error)
        {
            Attempts.Enqueue((message.Topic, null));
            throw error;
        }

        if (HoldNext > 0)
        {
            HoldNext--;
            var held = new TaskCompletionSource<MqttPublishOutcome>();
            Held.Enqueue(held);
            Attempts.Enqueue((message.Topic, HeldReason));
            return held.Task;
        }

        var reason = Answers.TryDequeue(out var next) ? next : 0;
        Attempts.Enqueue((message.Topic, reason));
        var outcome = new MqttPublishOutcome(reason, reason == 0 ? "success" : $"reason 0x{reason:X2}");
        return AnswerDelay == TimeSpan.Zero
            ? Task.FromResult(outcome)
            : Task.Delay(AnswerDelay, CancellationToken.None).ContinueWith(_ => outcome, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>What <see cref="StopAsync"/> does with its token; completes at once unless set (a test's slow join).</summary>
    public Func<CancellationToken, Task>? OnStop { get; set; }

    public Task StopAsync(CancellationToken cancellationToken) => OnStop?.Invoke(cancellationToken) ?? Task.CompletedTask;

    /// <summary>
    /// A drainer of detection rows over this transport, window 1 unless told, each row sent with its own topic and payload;
    /// the storage back-offs (refusals that cannot be recorded, deletes after PUBACK that fail) are the defaults unless given.
    /// </summary>
    internal OutboxDrainer DrainDetections(
        SqliteOutbox outbox,
        ILogger logger,
        TimeProvider? time = null,
        int window = 1,
        StorageRetryBackoff? refusalBackoff = null,
        StorageRetryBackoff? ackBackoff = null) => new(
        this,
        outbox,
        [OutboxKind.Detection],
        window,
        (row, _) => new MqttOutboundMessage { Topic = row.Topic, Payload = row.Payload, Qos = row.Qos },
        canSend: null,
        logger,
        time ?? TimeProvider.System,
        refusalBackoff,
        ackBackoff);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

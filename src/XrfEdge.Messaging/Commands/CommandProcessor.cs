using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Commands;

/// <summary>
/// Handles <c>…/cmd/{start|stop|set_preset|get_spectrum|ping}</c> (docs/mqtt.md §2, schema docs/schemas/command.schema.json):
/// validates the JSON, ignores duplicates (by command and <c>command_id</c>; never a <c>stop</c>), expired (never a
/// <c>stop</c>) and retained commands, answers malformed ones with a <c>rejected</c> reply naming the problem, replies <c>accepted</c> at once and
/// <c>completed</c>/<c>failed</c> when done. Replies go to the v5 Response Topic with the Correlation Data copied, or on
/// 3.1.1 to the payload's <c>reply_to</c> with its <c>correlation_id</c> echoed (default: <c>…/cmd_resp</c>); either
/// must lie in the fleet's operations namespace. Remote X-ray start is refused unless
/// <see cref="CommandOptions.RemoteControlEnabled"/> is set locally and the interlock allows exposure.
/// </summary>
/// <remarks>
/// Ordering (<see cref="Submit"/>): start, stop and set_preset change the instrument's state, so they are handed to the
/// handler on the routing thread in arrival order, and nothing they do waits for a reply's PUBACK first; a stop can
/// therefore never overtake an earlier start. ping and get_spectrum run on the thread pool. At most
/// <see cref="CommandOptions.MaxPendingCommands"/> commands are pending at once.
/// </remarks>
public sealed class CommandProcessor
{
    /// <summary>Command names this processor accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["start", "stop", "set_preset", "get_spectrum", "ping"];

    /// <summary>Longest <c>correlation_id</c>, v5 Correlation Data (bytes), <c>sample_id</c> and <c>mode</c> accepted: 128, as <c>command_id</c>.</summary>
    public const int MaxFieldLength = 128;

    /// <summary>Longest reply topic accepted, in characters: 256 (eight levels of 32 characters; MQTT allows 65,535).</summary>
    public const int MaxReplyTopicLength = 256;

    /// <summary>Longest excerpt of a client-supplied name or value quoted in a log line or an error reply.</summary>
    private const int MaxQuotedLength = 64;

    private static readonly HashSet<string> Common = ["command_id", "ts", "reply_to", "correlation_id"];
    private static readonly Dictionary<string, HashSet<string>> Allowed = new(StringComparer.Ordinal)
    {
        ["start"] = ["preset_s", "mode", "sample_id"],
        ["stop"] = [],
        ["set_preset"] = ["preset_s"],
        ["get_spectrum"] = ["measurement_id"],
        ["ping"] = [],
    };

    // Duplicate members would let a gateway that reads the first and this device (the last) disagree on a command.
    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false, MaxDepth = 8 };

    private readonly TopicTree _topics;
    private readonly IMqttTransport _transport;
    private readonly CommandOptions _options;
    private readonly IInstrumentCommandHandler? _handler;
    private readonly Func<string, CancellationToken, Task<string?>> _requestSpectrum;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _responsePrefix;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(string Key, DateTimeOffset Until)> _seenOrder = new();
    private long _duplicates;
    private long _expired;
    private long _rejected;
    private long _dropped;
    private int _pending;

    /// <summary>Creates the processor.</summary>
    /// <param name="topics">The device's topic tree.</param>
    /// <param name="transport">Where replies go.</param>
    /// <param name="options">Command settings.</param>
    /// <param name="handler">The instrument side; null = start/stop/set_preset fail with "no instrument attached".</param>
    /// <param name="requestSpectrum">Publishes the stored spectrum of a measurement id and returns its topic, or null when unknown.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="timeProvider">Clock for expiry and reply timestamps.</param>
    public CommandProcessor(
        TopicTree topics,
        IMqttTransport transport,
        CommandOptions options,
        IInstrumentCommandHandler? handler,
        Func<string, CancellationToken, Task<string?>> requestSpectrum,
        ILogger<CommandProcessor>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPayloadBytes, 1, nameof(options.MaxPayloadBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPendingCommands, 1, nameof(options.MaxPendingCommands));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DeduplicationCapacity, 1, nameof(options.DeduplicationCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxAge, TimeSpan.Zero, nameof(options.MaxAge));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxClockSkew, TimeSpan.Zero, nameof(options.MaxClockSkew));
        _topics = topics;
        _transport = transport;
        _options = options;
        _handler = handler;
        _requestSpectrum = requestSpectrum;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        if (options.ResponseTopicPrefix is { } prefix && CommandOptions.CheckResponseTopicPrefix(prefix, topics) is { } prefixProblem)
        {
            throw new ArgumentException($"Response topic prefix '{prefix}' {prefixProblem}.", nameof(options));
        }

        _responsePrefix = options.ResponseTopicPrefix ?? $"xrf/v1/{topics.Fleet}/_ops/";
    }

    /// <summary>Duplicate commands ignored since start.</summary>
    public long DuplicatesIgnored => Interlocked.Read(ref _duplicates);

    /// <summary>Expired or retained commands ignored since start.</summary>
    public long ExpiredIgnored => Interlocked.Read(ref _expired);

    /// <summary>Malformed or refused commands answered with <c>rejected</c> since start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Commands dropped without a reply since start because <see cref="CommandOptions.MaxPendingCommands"/> were pending.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Commands being handled now (by <see cref="Submit"/>).</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>True when <paramref name="topic"/> is one of this device's command topics.</summary>
    public bool Owns(string topic) => topic.StartsWith(_topics.CommandPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Takes one inbound command from the routing loop, which must call it in arrival order. start, stop and set_preset
    /// are validated and handed to the instrument before this returns (on the caller's thread, without waiting for any
    /// reply's PUBACK); ping, get_spectrum and unknown commands run on the thread pool. When
    /// <see cref="CommandOptions.MaxPendingCommands"/> commands are pending, the command is dropped (counted, logged),
    /// except a stop, which is executed without replies. Returns the task that ends after the command's last reply; it
    /// never faults.
    /// </summary>
    public Task Submit(MqttInboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var name = message.Topic[_topics.CommandPrefix.Length..];
        var ordered = name is "start" or "stop" or "set_preset";
        var pending = Interlocked.Increment(ref _pending);
        if (pending > _options.MaxPendingCommands)
        {
            Interlocked.Decrement(ref _pending);
            if (name == "stop")
            {
                return Guarded(message, () => Dispatch(message, replies: false, cancellationToken), cancellationToken);
            }

            var dropped = Interlocked.Increment(ref _dropped);
            if (dropped == 1 || dropped % 1000 == 0)
            {
                Log.CommandDropped(_logger, Quote(message.Topic), pending - 1, _options.MaxPendingCommands, dropped);
            }

            return Task.CompletedTask;
        }

        var work = ordered
            ? Guarded(message, () => Dispatch(message, replies: true, cancellationToken), cancellationToken)
            : Task.Run(() => Guarded(message, () => Dispatch(message, replies: true, cancellationToken), cancellationToken), CancellationToken.None);
        return ReleaseWhenDone(work);
    }

    /// <summary>Handles one inbound command now, whatever else is pending; completes after the final reply.</summary>
    public async Task HandleAsync(MqttInboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await Dispatch(message, replies: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReleaseWhenDone(Task work)
    {
        try
        {
            await work.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Runs <paramref name="dispatch"/>; its task never faults: an escaped exception would be unobserved, or rethrown at shutdown.</summary>
    private async Task Guarded(MqttInboundMessage message, Func<Task> dispatch, CancellationToken cancellationToken)
    {
        try
        {
            await dispatch().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // One bad command must not end routing or surface at shutdown; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.CommandFailed(_logger, Quote(message.Topic), ex);
        }
    }

    /// <summary>
    /// Validates the command and, when it is to run, calls the instrument before returning (the handler's synchronous
    /// part runs on this thread); the returned task awaits the handler's result and the replies.
    /// </summary>
    private Task Dispatch(MqttInboundMessage message, bool replies, CancellationToken cancellationToken)
    {
        var admission = Admit(message);
        if (admission.Reject is { } rejection)
        {
            Interlocked.Increment(ref _rejected);
            Log.CommandRejected(_logger, Quote(message.Topic), rejection.Message);
            return replies
                ? SendAsync(admission.Reply, admission.Name, "rejected", rejection.Code, rejection.Message, null, cancellationToken)
                : Task.CompletedTask;
        }

        if (admission.Parsed is not { } parsed)
        {
            return Task.CompletedTask; // ignored: retained, expired or a duplicate (already counted and logged)
        }

        var accepted = replies ? SendAsync(admission.Reply, admission.Name, "accepted", null, null, null, cancellationToken) : Task.CompletedTask;

        // Checked again immediately before the instrument is called: a start must never run after it expired.
        Task<CommandResult> execution;
        if (admission.Deadline is { } deadline && _time.GetUtcNow() > deadline)
        {
            Interlocked.Increment(ref _expired);
            execution = Task.FromResult(new CommandResult(false, $"The command expired (at {DetectionPayload.Iso(deadline)}) before it could run; it was not executed."));
            return FinishAsync(admission, accepted, execution, "expired", replies, cancellationToken);
        }

        execution = ExecuteAsync(admission.Name, parsed, cancellationToken);
        return FinishAsync(admission, accepted, execution, "failed", replies, cancellationToken);
    }

    private async Task FinishAsync(Admission admission, Task accepted, Task<CommandResult> execution, string failureCode, bool replies, CancellationToken cancellationToken)
    {
        CommandResult result;
        try
        {
            result = await execution.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any handler failure becomes a "failed" reply; the service keeps running.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.CommandHandlerFailed(_logger, admission.Name, ex);
            result = CommandResult.Failed($"{ex.GetType().Name}: {ex.Message}");
        }

        await accepted.ConfigureAwait(false);
        if (replies)
        {
            await SendAsync(admission.Reply, admission.Name, result.Succeeded ? "completed" : "failed", result.Succeeded ? null : failureCode, result.Error, result.Result, cancellationToken).ConfigureAwait(false);
        }

        Log.CommandHandled(_logger, admission.Name, admission.Reply.CommandId ?? "(none)", result.Succeeded ? "completed" : $"failed: {result.Error}");
    }

    /// <summary>Everything decided before the instrument is called: where replies go, and reject, ignore or run.</summary>
    private Admission Admit(MqttInboundMessage message)
    {
        var name = Quote(message.Topic[_topics.CommandPrefix.Length..]);
        var now = _time.GetUtcNow();

        // Correlation Data is echoed in every reply: an oversized one is not copied, not even into the rejection.
        var correlationData = message.CorrelationData is { Length: > MaxFieldLength } ? null : message.CorrelationData;
        var v5TopicError = message.ResponseTopic is { } v5Topic ? ReplyTopicError(v5Topic, "Response Topic") : null;
        var reply = new ReplyTarget(v5TopicError is null ? message.ResponseTopic : null, correlationData, null, null);
        Admission Reject(string code, string text) => new(name, reply, null, null, new Rejection(code, text));
        Admission Ignore(string id, string why, ref long counter)
        {
            Interlocked.Increment(ref counter);
            Log.CommandIgnored(_logger, Quote(id), why);
            return new(name, reply, null, null, null);
        }

        if (message.Retain)
        {
            // A retained command is a stale instruction replayed on subscribe; acting on it could start X-rays unasked.
            return Ignore("(retained)", $"retained message on {Quote(message.Topic)}", ref _expired);
        }

        if (v5TopicError is not null)
        {
            return Reject("invalid", v5TopicError);
        }

        if (message.CorrelationData is { Length: > MaxFieldLength } tooLong)
        {
            return Reject("invalid", $"Correlation Data of {tooLong.Length} bytes is longer than {MaxFieldLength} bytes.");
        }

        if (message.Payload.Length > _options.MaxPayloadBytes)
        {
            return Reject("invalid", $"Command payload of {message.Payload.Length} bytes is larger than {_options.MaxPayloadBytes} bytes; it was not read.");
        }

        if (!Utf8.IsValid(message.Payload))
        {
            return Reject("malformed_json", $"Command payload on '{Quote(message.Topic)}' is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.Payload, ParseOptions);
        }
        catch (JsonException ex)
        {
            return Reject("malformed_json", $"Command payload on '{Quote(message.Topic)}' is not valid JSON (a member named twice counts as invalid): {ex.Message}");
        }

        using (document)
        {
            try
            {
                return Admit(message, document.RootElement, name, reply, now);
            }
            catch (InvalidOperationException)
            {
                // A string or member name holding an escaped lone surrogate (\ud800) cannot be read as text.
                return Reject("malformed_json", $"Command payload on '{Quote(message.Topic)}' holds a string that is not valid text (an unpaired \\u surrogate escape).");
            }
        }
    }

    private Admission Admit(MqttInboundMessage message, JsonElement root, string name, ReplyTarget reply, DateTimeOffset now)
    {
        Admission Reject(string code, string text) => new(name, reply, null, null, new Rejection(code, text));
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Reject("invalid", $"Command payload on '{Quote(message.Topic)}' must be a JSON object, not {root.ValueKind}.");
        }

        // 3.1.1 fallback: reply_to / correlation_id travel in the payload; v5 properties win when both exist.
        var replyTo = OptionalString(root, "reply_to");
        var correlationId = OptionalString(root, "correlation_id");
        var commandId = OptionalString(root, "command_id");
        var replyToError = replyTo.Value is { } rt ? ReplyTopicError(rt, "'reply_to'") : null;
        var correlationIdError = correlationId.Value is { Length: > MaxFieldLength } cid
            ? $"'correlation_id' of {cid.Length} characters is longer than {MaxFieldLength}."
            : null;
        reply = reply with
        {
            Topic = message.ResponseTopic is not null ? reply.Topic : replyToError is null ? replyTo.Value : null,
            CorrelationId = correlationIdError is null ? correlationId.Value : null,
            CommandId = commandId.Value is { Length: > 0 and <= MaxFieldLength } id0 ? id0 : null,
        };

        string? error = replyTo.Error ?? correlationId.Error ?? commandId.Error ?? replyToError ?? correlationIdError;
        if (error is null && (commandId.Value is null || commandId.Value.Length is 0 or > MaxFieldLength))
        {
            error = $"'command_id' is required: a string of 1–{MaxFieldLength} characters.";
        }

        if (error is null && !Allowed.ContainsKey(name))
        {
            error = $"Unknown command '{name}'; known: {string.Join(", ", Names)}.";
        }

        if (error is null)
        {
            foreach (var property in root.EnumerateObject())
            {
                if (!Common.Contains(property.Name) && !Allowed[name].Contains(property.Name))
                {
                    error = $"Unknown property '{Quote(property.Name)}' for command '{name}'; allowed: {string.Join(", ", Common.Concat(Allowed[name]))}.";
                    break;
                }
            }
        }

        if (error is not null)
        {
            return Reject("invalid", error);
        }

        var id = commandId.Value!;
        var ts = OptionalString(root, "ts");
        if (ts.Error is not null)
        {
            return Reject("invalid", ts.Error);
        }

        DateTimeOffset? deadline = null;
        if (ts.Value is { } issued)
        {
            if (!DateTimeOffset.TryParse(issued, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var issuedAt))
            {
                return Reject("invalid", $"'ts' '{Quote(issued)}' is not an ISO-8601 time.");
            }

            var age = now - issuedAt;
            if (age > _options.MaxAge || age < -_options.MaxClockSkew)
            {
                if (name != "stop")
                {
                    return Ignore(id, $"expired: issued {age.TotalSeconds:F0} s ago, limit {_options.MaxAge.TotalSeconds:F0} s", ref _expired);
                }

                // A stop is executed whatever its age, as it is never de-duplicated: stopping is always safe, and the
                // usual cause is a clock that differs (a sender's, or the instrument's before NTP), which silenced
                // every stop with no reply and left the X-ray on until the preset ended (until 2026-11-24).
                Log.StaleStopExecuted(_logger, Quote(id), age.TotalSeconds, _options.MaxAge.TotalSeconds, _options.MaxClockSkew.TotalSeconds);
            }
            else
            {
                deadline = issuedAt + _options.MaxAge;
            }
        }

        if (message.MessageExpiry is { } expiry)
        {
            // The remaining interval when the broker forwarded it; the device cannot see the original one.
            var arrived = message.ReceivedAt == default ? now : message.ReceivedAt;
            var expiresAt = arrived + expiry;
            if (name != "stop")
            {
                deadline = deadline is { } d && d < expiresAt ? d : expiresAt;
            }

            if (now > expiresAt && name != "stop")
            {
                return Ignore(id, $"expired: its Message Expiry ended at {DetectionPayload.Iso(expiresAt)}", ref _expired);
            }
        }

        if (name == "start")
        {
            // Without an expiry a start stays valid for ever: it could be replayed once its id is forgotten.
            if (ts.Value is null && message.MessageExpiry is null)
            {
                return Reject("invalid", $"'ts' (the issue time, ISO-8601 UTC) is required for start, or an MQTT 5 Message Expiry of at most {_options.MaxAge.TotalSeconds:F0} s: a start without one could be replayed at any later time.");
            }

            if (ts.Value is null && message.MessageExpiry > _options.MaxAge)
            {
                return Reject("invalid", $"A start without 'ts' must have an MQTT 5 Message Expiry of at most {_options.MaxAge.TotalSeconds:F0} s, not {message.MessageExpiry.Value.TotalSeconds:F0} s.");
            }
        }

        // stop is never de-duplicated: stopping twice is harmless, and a dropped stop leaves the X-ray on.
        if (name != "stop")
        {
            var remembered = Remember($"{name}\n{id}", now);
            if (remembered is null)
            {
                return Ignore(id, $"duplicate {name} command_id", ref _duplicates);
            }

            if (remembered == false && name == "start")
            {
                return Reject("busy", $"{_options.DeduplicationCapacity} recent commands are remembered, the most this device holds; a start is refused until older ones expire (at most {(_options.MaxAge + _options.MaxClockSkew).TotalSeconds:F0} s).");
            }
        }

        var parsed = Parse(name, root, _options.AnalysisModes);
        if (parsed.Error is not null)
        {
            return Reject("invalid", parsed.Error);
        }

        if (name == "start")
        {
            if (!_options.RemoteControlEnabled)
            {
                return Reject("remote_control_disabled", "Remote X-ray start is disabled in the instrument's local configuration (Mqtt:RemoteControl).");
            }

            if (_handler is null || !_handler.InterlockAllowsExposure)
            {
                return Reject("interlock", "The instrument's interlock does not allow X-ray exposure now.");
            }
        }

        return new Admission(name, reply, parsed, deadline, null);

        Admission Ignore(string commandId, string why, ref long counter)
        {
            Interlocked.Increment(ref counter);
            Log.CommandIgnored(_logger, Quote(commandId), why);
            return new(name, reply, null, null, null);
        }
    }

    /// <summary>
    /// Why <paramref name="topic"/> may not receive replies, or null: it must be a topic name (no wildcards, not empty,
    /// not a <c>$</c> broker topic) in the fleet's operations namespace, or this device's own <c>…/cmd_resp</c>. Anywhere
    /// else a requester could make the device publish into its own result stream, another device's tree or the broker's.
    /// </summary>
    private string? ReplyTopicError(string topic, string what)
    {
        if (topic.Length == 0)
        {
            // An empty topic name is not a topic (MQTT 3.1.1 §4.7.3): publishing the reply there would fail and lose it.
            return $"{what} must not be empty: give a topic name, or leave it out to be answered on the default response topic.";
        }

        if (topic.Length > MaxReplyTopicLength)
        {
            return $"{what} of {topic.Length} characters is longer than {MaxReplyTopicLength}.";
        }

        if (topic == _topics.DefaultResponse)
        {
            return null;
        }

        if (topic.AsSpan().IndexOfAny('+', '#', '\0') >= 0)
        {
            return $"{what} '{Quote(topic)}' must be a topic name without wildcards.";
        }

        if (topic.StartsWith('$') || topic.StartsWith(_topics.Root + "/", StringComparison.Ordinal) || !topic.StartsWith(_responsePrefix, StringComparison.Ordinal) || topic.Length == _responsePrefix.Length)
        {
            return $"{what} '{Quote(topic)}' is not allowed: replies go only under '{_responsePrefix}' or to '{_topics.DefaultResponse}'.";
        }

        return null;
    }

    /// <summary>A client-supplied text safe to quote in a log line or reply: control characters escaped, at most 64 characters.</summary>
    private static string Quote(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxQuotedLength) + 8);
        foreach (var c in text)
        {
            if (builder.Length >= MaxQuotedLength)
            {
                builder.Append('…');
                break;
            }

            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static (string? Value, string? Error) OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        return value.ValueKind == JsonValueKind.String ? (value.GetString(), null) : (null, $"'{name}' must be a string, not {value.ValueKind}.");
    }

    private static Parsed Parse(string name, JsonElement root, IReadOnlyList<string> analysisModes)
    {
        double? presetSeconds = null;
        if (root.TryGetProperty("preset_s", out var preset))
        {
            if (preset.ValueKind != JsonValueKind.Number || !preset.TryGetDouble(out var seconds) || seconds is < 1 or > 3600)
            {
                return new Parsed { Error = "'preset_s' must be a number of seconds from 1 to 3600." };
            }

            presetSeconds = seconds;
        }
        else if (name == "set_preset")
        {
            return new Parsed { Error = "'preset_s' is required for set_preset." };
        }

        var mode = OptionalString(root, "mode");
        var sample = OptionalString(root, "sample_id");
        var measurement = OptionalString(root, "measurement_id");
        var error = mode.Error ?? sample.Error ?? measurement.Error;
        if (error is null && (sample.Value?.Length > MaxFieldLength || mode.Value?.Length > MaxFieldLength))
        {
            error = $"'sample_id' and 'mode' must be at most {MaxFieldLength} characters.";
        }

        if (error is null && mode.Value is { } m && !analysisModes.Contains(m, StringComparer.Ordinal))
        {
            error = $"Analysis mode '{Quote(m)}' is not available on this instrument; known: {string.Join(", ", analysisModes)}.";
        }

        if (error is null && name == "get_spectrum" && !TopicTree.IsValidId(measurement.Value))
        {
            error = "'measurement_id' is required: 1–128 characters of [A-Za-z0-9_-].";
        }

        return new Parsed
        {
            Error = error,
            Preset = presetSeconds is { } s ? TimeSpan.FromSeconds(s) : null,
            Mode = mode.Value,
            SampleId = sample.Value,
            MeasurementId = measurement.Value,
        };
    }

    private async Task<CommandResult> ExecuteAsync(string name, Parsed parsed, CancellationToken cancellationToken)
    {
        switch (name)
        {
            case "ping":
                return CommandResult.Completed(new Dictionary<string, string> { ["pong"] = DetectionPayload.Iso(_time.GetUtcNow()) });
            case "get_spectrum":
                var topic = await _requestSpectrum(parsed.MeasurementId!, cancellationToken).ConfigureAwait(false);
                return topic is null
                    ? CommandResult.Failed($"No stored spectrum for measurement '{parsed.MeasurementId}'.")
                    : CommandResult.Completed(new Dictionary<string, string> { ["topic"] = topic, ["measurement_id"] = parsed.MeasurementId! });
        }

        if (_handler is null)
        {
            return CommandResult.Failed("No instrument is attached to this service.");
        }

        return name switch
        {
            "start" => await _handler.StartAsync(new StartCommand(parsed.Preset, parsed.Mode, parsed.SampleId), cancellationToken).ConfigureAwait(false),
            "stop" => await _handler.StopAsync(cancellationToken).ConfigureAwait(false),
            "set_preset" => await _handler.SetPresetAsync(parsed.Preset!.Value, cancellationToken).ConfigureAwait(false),
            _ => CommandResult.Failed($"Unknown command '{name}'."),
        };
    }

    /// <summary>
    /// Remembers a (command, id) key until it can no longer be valid (<see cref="CommandOptions.MaxAge"/> +
    /// <see cref="CommandOptions.MaxClockSkew"/>). Null = seen before (a duplicate); false = the store is full and the
    /// key was not remembered.
    /// </summary>
    private bool? Remember(string key, DateTimeOffset now)
    {
        lock (_gate)
        {
            while (_seenOrder.TryPeek(out var oldest) && oldest.Until <= now)
            {
                _seenOrder.Dequeue();
                _seen.Remove(oldest.Key);
            }

            if (_seen.ContainsKey(key))
            {
                return null;
            }

            if (_seen.Count >= _options.DeduplicationCapacity)
            {
                return false;
            }

            var until = now + _options.MaxAge + _options.MaxClockSkew;
            _seen.Add(key, until);
            _seenOrder.Enqueue((key, until));
            return true;
        }
    }

    private async Task SendAsync(ReplyTarget reply, string name, string status, string? errorCode, string? error, IReadOnlyDictionary<string, string>? result, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", "xrf.cmd_resp/1");
            if (reply.CommandId is null)
            {
                w.WriteNull("command_id");
            }
            else
            {
                w.WriteString("command_id", reply.CommandId);
            }

            w.WriteString("command", name);
            w.WriteString("status", status);
            w.WriteString("device", _topics.Device);
            w.WriteString("ts", DetectionPayload.Iso(_time.GetUtcNow()));
            if (reply.CorrelationId is not null)
            {
                w.WriteString("correlation_id", reply.CorrelationId);
            }

            if (error is not null)
            {
                w.WriteStartObject("error");
                w.WriteString("code", errorCode ?? "failed");
                w.WriteString("message", error);
                w.WriteEndObject();
            }

            if (result is not null)
            {
                w.WriteStartObject("result");
                foreach (var (key, value) in result)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        var message = new MqttOutboundMessage
        {
            Topic = reply.Topic ?? _topics.DefaultResponse,
            Payload = buffer.WrittenSpan.ToArray(),
            Qos = 1,
            ContentType = "application/json",
            CorrelationData = reply.CorrelationData,
            MessageExpiry = _options.MaxAge,
        };
        try
        {
            // Replies are live conversation, not results: published directly, bounded by the command's own lifetime.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.MaxAge);
            var outcome = await _transport.PublishAsync(message, timeout.Token).ConfigureAwait(false);
            if (!outcome.Accepted)
            {
                // e.g. 0x87: the broker's ACL does not let the device write the requester's reply topic. Ignored
                // without a word until 2026-11-23; the requester only saw its command time out.
                Log.AuxiliaryPublishRefused(_logger, message.Topic, outcome.ReasonCode, outcome.Description);
            }
        }
        catch (Exception ex) when (ex is MqttException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.AuxiliaryPublishFailed(_logger, message.Topic, ex);
        }

    }

    private sealed record ReplyTarget(string? Topic, byte[]? CorrelationData, string? CorrelationId, string? CommandId);

    private sealed record Rejection(string Code, string Message);

    /// <summary>The decision on one command: <see cref="Reject"/> set = answer <c>rejected</c>; <see cref="Parsed"/> set = run; neither = ignore.</summary>
    private sealed record Admission(string Name, ReplyTarget Reply, Parsed? Parsed, DateTimeOffset? Deadline, Rejection? Reject);

    private sealed record Parsed
    {
        public string? Error { get; init; }

        public TimeSpan? Preset { get; init; }

        public string? Mode { get; init; }

        public string? SampleId { get; init; }

        public string? MeasurementId { get; init; }
    }
}

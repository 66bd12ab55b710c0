using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Topics;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging.Commands;

/// <summary>
/// Handles <c>…/cmd/{start|stop|set_preset|get_spectrum|ping}</c> (docs/mqtt.md, schema docs/schemas/command.schema.json):
/// validates the JSON, ignores duplicates (by <c>command_id</c>), expired and retained commands, answers malformed ones
/// with a <c>rejected</c> reply naming the problem, replies <c>accepted</c> at once and <c>completed</c>/<c>failed</c>
/// when done. Replies go to the v5 Response Topic with the Correlation Data copied, or on 3.1.1 to the payload's
/// <c>reply_to</c> with its <c>correlation_id</c> echoed (default: <c>…/cmd_resp</c>). Remote X-ray start is refused unless
/// <see cref="CommandOptions.RemoteControlEnabled"/> is set locally and the interlock allows exposure.
/// </summary>
public sealed class CommandProcessor
{
    /// <summary>Command names this processor accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["start", "stop", "set_preset", "get_spectrum", "ping"];

    private static readonly HashSet<string> Common = ["command_id", "ts", "reply_to", "correlation_id"];
    private static readonly Dictionary<string, HashSet<string>> Allowed = new(StringComparer.Ordinal)
    {
        ["start"] = ["preset_s", "mode", "sample_id"],
        ["stop"] = [],
        ["set_preset"] = ["preset_s"],
        ["get_spectrum"] = ["measurement_id"],
        ["ping"] = [],
    };

    private readonly TopicTree _topics;
    private readonly IMqttTransport _transport;
    private readonly CommandOptions _options;
    private readonly IInstrumentCommandHandler? _handler;
    private readonly Func<string, CancellationToken, Task<string?>> _requestSpectrum;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _seenOrder = new();
    private long _duplicates;
    private long _expired;
    private long _rejected;

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
        _topics = topics;
        _transport = transport;
        _options = options;
        _handler = handler;
        _requestSpectrum = requestSpectrum;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Duplicate commands ignored since start.</summary>
    public long DuplicatesIgnored => Interlocked.Read(ref _duplicates);

    /// <summary>Expired or retained commands ignored since start.</summary>
    public long ExpiredIgnored => Interlocked.Read(ref _expired);

    /// <summary>Malformed or refused commands answered with <c>rejected</c> since start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>True when <paramref name="topic"/> is one of this device's command topics.</summary>
    public bool Owns(string topic) => topic.StartsWith(_topics.CommandPrefix, StringComparison.Ordinal);

    /// <summary>Handles one inbound command; completes after the final reply.</summary>
    public async Task HandleAsync(MqttInboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var name = message.Topic[_topics.CommandPrefix.Length..];
        var reply = new ReplyTarget(message.ResponseTopic, message.CorrelationData, null, null);

        if (message.Retain)
        {
            // A retained command is a stale instruction replayed on subscribe; acting on it could start X-rays unasked.
            Interlocked.Increment(ref _expired);
            Log.CommandIgnored(_logger, "(retained)", $"retained message on {message.Topic}");
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(message.Payload);
        }
        catch (JsonException ex)
        {
            await RejectAsync(reply, name, null, "malformed_json", $"Command payload on '{message.Topic}' is not valid JSON: {ex.Message}", cancellationToken).ConfigureAwait(false);
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                await RejectAsync(reply, name, null, "invalid", $"Command payload on '{message.Topic}' must be a JSON object, not {root.ValueKind}.", cancellationToken).ConfigureAwait(false);
                return;
            }

            // 3.1.1 fallback: reply_to / correlation_id travel in the payload; v5 properties win when both exist.
            var replyTo = OptionalString(root, "reply_to");
            var correlationId = OptionalString(root, "correlation_id");
            reply = reply with
            {
                Topic = message.ResponseTopic ?? replyTo.Value ?? _topics.DefaultResponse,
                CorrelationId = correlationId.Value,
                CommandId = null,
            };

            var commandId = OptionalString(root, "command_id");
            string? error = replyTo.Error ?? correlationId.Error ?? commandId.Error;
            if (error is null && (commandId.Value is null || commandId.Value.Length is 0 or > 128))
            {
                error = "'command_id' is required: a string of 1–128 characters.";
            }

            if (error is null && !Allowed.ContainsKey(name))
            {
                error = $"Unknown command '{name}'; known: {string.Join(", ", Names)}.";
            }

            if (error is null && replyTo.Value is { } rt && (rt.Length == 0 || rt.Contains('+', StringComparison.Ordinal) || rt.Contains('#', StringComparison.Ordinal)))
            {
                // An empty topic name is not a topic (MQTT 3.1.1 §4.7.3): publishing the reply there would fail and lose it.
                error = rt.Length == 0
                    ? "'reply_to' must not be empty: give a topic name, or leave it out to be answered on the default response topic."
                    : $"'reply_to' '{rt}' must be a topic name without wildcards.";
                reply = reply with { Topic = _topics.DefaultResponse };
            }

            if (error is null)
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (!Common.Contains(property.Name) && !Allowed[name].Contains(property.Name))
                    {
                        error = $"Unknown property '{property.Name}' for command '{name}'; allowed: {string.Join(", ", Common.Concat(Allowed[name]))}.";
                        break;
                    }
                }
            }

            reply = reply with { CommandId = commandId.Value };
            if (error is not null)
            {
                await RejectAsync(reply, name, commandId.Value, "invalid", error, cancellationToken).ConfigureAwait(false);
                return;
            }

            var id = commandId.Value!;
            var ts = OptionalString(root, "ts");
            if (ts.Error is not null)
            {
                await RejectAsync(reply, name, id, "invalid", ts.Error, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (ts.Value is { } issued)
            {
                if (!DateTimeOffset.TryParse(issued, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var issuedAt))
                {
                    await RejectAsync(reply, name, id, "invalid", $"'ts' '{issued}' is not an ISO-8601 time.", cancellationToken).ConfigureAwait(false);
                    return;
                }

                var age = _time.GetUtcNow() - issuedAt;
                if (age > _options.MaxAge || age < -_options.MaxClockSkew)
                {
                    Interlocked.Increment(ref _expired);
                    Log.CommandIgnored(_logger, id, $"expired: issued {age.TotalSeconds:F0} s ago, limit {_options.MaxAge.TotalSeconds:F0} s");
                    return;
                }
            }

            if (!Remember(id))
            {
                Interlocked.Increment(ref _duplicates);
                Log.CommandIgnored(_logger, id, "duplicate command_id");
                return;
            }

            var parsed = Parse(name, root, _options.AnalysisModes);
            if (parsed.Error is not null)
            {
                await RejectAsync(reply, name, id, "invalid", parsed.Error, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (name == "start")
            {
                if (!_options.RemoteControlEnabled)
                {
                    await RejectAsync(reply, name, id, "remote_control_disabled", "Remote X-ray start is disabled in the instrument's local configuration (Mqtt:RemoteControl).", cancellationToken).ConfigureAwait(false);
                    return;
                }

                if (_handler is null || !_handler.InterlockAllowsExposure)
                {
                    await RejectAsync(reply, name, id, "interlock", "The instrument's interlock does not allow X-ray exposure now.", cancellationToken).ConfigureAwait(false);
                    return;
                }
            }

            await SendAsync(reply, name, "accepted", null, null, null, cancellationToken).ConfigureAwait(false);
            CommandResult result;
            try
            {
                result = await ExecuteAsync(name, parsed, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any handler failure becomes a "failed" reply; the service keeps running.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.CommandHandlerFailed(_logger, name, ex);
                result = CommandResult.Failed($"{ex.GetType().Name}: {ex.Message}");
            }

            await SendAsync(reply, name, result.Succeeded ? "completed" : "failed", result.Succeeded ? null : "failed", result.Error, result.Result, cancellationToken).ConfigureAwait(false);
            Log.CommandHandled(_logger, name, id, result.Succeeded ? "completed" : $"failed: {result.Error}");
        }
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
        if (error is null && mode.Value is { } m && !analysisModes.Contains(m, StringComparer.Ordinal))
        {
            error = $"Analysis mode '{m}' is not available on this instrument; known: {string.Join(", ", analysisModes)}.";
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

    private bool Remember(string commandId)
    {
        lock (_gate)
        {
            if (!_seen.Add(commandId))
            {
                return false;
            }

            _seenOrder.Enqueue(commandId);
            while (_seenOrder.Count > _options.DeduplicationWindow)
            {
                _seen.Remove(_seenOrder.Dequeue());
            }

            return true;
        }
    }

    private async Task RejectAsync(ReplyTarget reply, string name, string? commandId, string code, string message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _rejected);
        Log.CommandRejected(_logger, _topics.Command(name), message);
        await SendAsync(reply with { CommandId = commandId }, name, "rejected", code, message, null, cancellationToken).ConfigureAwait(false);
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
            await _transport.PublishAsync(message, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.AuxiliaryPublishFailed(_logger, message.Topic, ex);
        }

    }

    private sealed record ReplyTarget(string? Topic, byte[]? CorrelationData, string? CorrelationId, string? CommandId);

    private sealed record Parsed
    {
        public string? Error { get; init; }

        public TimeSpan? Preset { get; init; }

        public string? Mode { get; init; }

        public string? SampleId { get; init; }

        public string? MeasurementId { get; init; }
    }
}

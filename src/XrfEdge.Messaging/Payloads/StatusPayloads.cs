using System.Buffers;
using System.Text.Json;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Payloads;

/// <summary>Builds the <c>status</c> (xrf.status/1) and <c>health</c> (xrf.health/1) JSON; schemas in docs/schemas.</summary>
public static class StatusPayloads
{
    /// <summary>Builds the retained status message.</summary>
    public static byte[] BuildStatus(InstrumentStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", "xrf.status/1");
            w.WriteString("ts", DetectionPayload.Iso(now));
            w.WriteString("state", status.State);
            w.WriteString("boot_id", status.BootId);
            w.WriteString("app_version", status.AppVersion);
            WriteModel(w, status.Model);
            if (status.ConfigHash is null)
            {
                w.WriteNull("config_hash");
            }
            else
            {
                w.WriteString("config_hash", status.ConfigHash);
            }

            w.WriteBoolean("remote_control", status.RemoteControlEnabled);
            if (status.LastError is null)
            {
                w.WriteNull("last_error");
            }
            else
            {
                w.WriteString("last_error", status.LastError);
            }

            if (status.ModelError is null)
            {
                w.WriteNull("model_error");
            }
            else
            {
                w.WriteString("model_error", status.ModelError);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Builds one health message.</summary>
    public static byte[] BuildHealth(InstrumentHealth health, OutboxStatistics outbox, MqttHealth mqtt, ModelIdentity? model, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(health);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(mqtt);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", "xrf.health/1");
            w.WriteString("ts", DetectionPayload.Iso(now));
            Number(w, "uptime_s", health.Uptime?.TotalSeconds);
            w.WriteStartObject("temps_c");
            Number(w, "detector", health.DetectorTemperatureCelsius);
            Number(w, "board", health.BoardTemperatureCelsius);
            Number(w, "soc", health.SocTemperatureCelsius);
            Number(w, "tube", health.TubeTemperatureCelsius);
            w.WriteEndObject();
            w.WriteStartObject("rates_cps");
            Number(w, "icr", health.InputCountsPerSecond);
            Number(w, "ocr", health.OutputCountsPerSecond);
            w.WriteEndObject();
            Number(w, "dead_time_pct", health.DeadTimePercent);
            Number(w, "hv_kv", health.TubeVoltageKilovolts);
            Number(w, "tube_ua", health.TubeCurrentMicroamperes);
            Number(w, "battery_pct", health.BatteryPercent);
            Number(w, "disk_free_mb", health.DiskFreeMebibytes);
            w.WriteStartObject("outbox");
            w.WriteNumber("depth", outbox.Depth);
            w.WriteNumber("bytes", outbox.Bytes);
            w.WriteNumber("oldest_age_s", Math.Round(outbox.OldestAge.TotalSeconds, 1));
            if (outbox.OldestRunAge is { } runAge)
            {
                w.WriteNumber("oldest_run_age_s", Math.Round(runAge.TotalSeconds, 1));
            }
            else
            {
                w.WriteNull("oldest_run_age_s");
            }

            w.WriteNumber("evicted_total", outbox.EvictedTotal);
            w.WriteNumber("dead_lettered", outbox.DeadLettered);
            w.WriteNumber("refused_total", outbox.RefusedTotal);
            w.WriteNumber("last_seq", outbox.LastSeq);
            w.WriteNumber("awaiting_reanalysis", outbox.AwaitingReanalysis);
            w.WriteNumber("pruned_unanalysed_total", outbox.PrunedUnanalysedTotal);
            w.WriteBoolean("recovered_from_corruption", outbox.RecoveredFromCorruption is not null);
            w.WriteEndObject();
            w.WriteStartObject("mqtt");
            w.WriteBoolean("connected", mqtt.Connected);
            w.WriteNumber("reconnects_total", mqtt.ReconnectsTotal);
            if (mqtt.LastDisconnectCode is { } code)
            {
                w.WriteNumber("last_disconnect_rc", code);
            }
            else
            {
                w.WriteNull("last_disconnect_rc");
            }

            w.WriteString("protocol", mqtt.Protocol);
            if (mqtt.LastRefusal is null)
            {
                w.WriteNull("last_refusal");
            }
            else
            {
                w.WriteString("last_refusal", mqtt.LastRefusal);
            }
            w.WriteEndObject();
            WriteModel(w, model);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteModel(Utf8JsonWriter w, ModelIdentity? model)
    {
        if (model is null)
        {
            w.WriteNull("model");
            return;
        }

        w.WriteStartObject("model");
        w.WriteString("name", model.Name);
        w.WriteString("version", model.Version);
        w.WriteString("sha256", model.Sha256);
        w.WriteString("precision", model.Precision);
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            w.WriteNumber(name, Math.Round(v, 3));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}

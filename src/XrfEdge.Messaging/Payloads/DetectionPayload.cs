using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Topics;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Payloads;

/// <summary>
/// Builds the <c>xrf.detections/1</c> JSON (docs/schemas/detections.schema.json) from a <see cref="MeasurementResult"/>.
/// The <c>historical</c> member is written as <c>"historical":false</c> so the publisher can flip it in place, byte for
/// byte, when a stored row is sent after the connection it was created under (<see cref="MarkHistorical"/>).
/// </summary>
public static class DetectionPayload
{
    /// <summary>Schema id carried in the payload.</summary>
    public const string SchemaId = "xrf.detections/1";

    private static readonly byte[] LiveFlag = "\"historical\":false"u8.ToArray();
    private static readonly byte[] HistoricalFlag = "\"historical\":true "u8.ToArray();

    /// <summary>Serialises the detection message for <paramref name="stamp"/> (seq, msg_id).</summary>
    public static byte[] Build(MeasurementResult result, OutboxStamp stamp, TopicTree topics)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(stamp);
        ArgumentNullException.ThrowIfNull(topics);
        var spectrum = result.Spectrum;
        var identification = result.Identification;
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("schema", SchemaId);
            w.WriteString("msg_id", stamp.MsgId.ToString());
            w.WriteString("measurement_id", result.MeasurementId);
            w.WriteNumber("seq", stamp.Seq);
            w.WriteBoolean("historical", false);
            w.WriteString("fleet", topics.Fleet);
            w.WriteString("device", topics.Device);
            w.WriteString("created", Iso(stamp.CreatedUtc));
            if (result.Reanalysed)
            {
                w.WriteBoolean("reanalysed", true);
            }

            w.WriteStartObject("acquired");
            WriteTime(w, "start", result.AcquisitionStart);
            WriteTime(w, "end", result.AcquisitionEnd);
            w.WriteEndObject();

            w.WriteStartObject("acq");
            WriteNumber(w, "preset_s", result.Preset?.TotalSeconds);
            WriteNumber(w, "live_s", spectrum.LiveTime?.TotalSeconds);
            WriteNumber(w, "real_s", spectrum.RealTime?.TotalSeconds);
            WriteString(w, "mode", result.Mode);
            WriteString(w, "sample_id", result.SampleId);
            WriteString(w, "anode", spectrum.Excitation?.Anode);
            WriteNumber(w, "tube_kv", spectrum.Excitation?.TubeVoltageKilovolts);
            WriteNumber(w, "tube_ua", spectrum.Excitation?.TubeCurrentMicroamperes);
            WriteString(w, "filter", result.Filter);
            w.WriteEndObject();

            var total = spectrum.TotalCounts;
            var live = spectrum.LiveTime?.TotalSeconds;
            var real = spectrum.RealTime?.TotalSeconds;
            w.WriteStartObject("spectrum");
            w.WriteNumber("channels", spectrum.Counts.Length);
            w.WriteNumber("offset_kev", spectrum.Calibration.OffsetKeV);
            w.WriteNumber("gain_kev_per_channel", spectrum.Calibration.GainKeVPerChannel);
            w.WriteNumber("quadratic_kev_per_channel2", spectrum.Calibration.QuadraticKeVPerChannel2);
            w.WriteNumber("total_counts", total);

            // Output count rate = counts per live second; the input rate needs the MCA's fast-channel count, which is
            // not in a RawSpectrum, so dead time comes from live/real time instead.
            WriteNumber(w, "ocr_cps", live is > 0 ? Math.Round(total / live.Value, 1) : null);
            WriteNumber(w, "dead_time_pct", live is > 0 && real is > 0 ? Math.Round(100 * (1 - (live.Value / real.Value)), 2) : null);
            w.WriteString("sha256", CountsHash(spectrum.Counts));
            w.WriteString("topic", topics.Spectrum(result.MeasurementId));
            w.WriteBoolean("available", true);
            w.WriteEndObject();

            w.WriteStartArray("lines");
            foreach (var line in identification.Lines)
            {
                w.WriteStartObject();
                w.WriteString("el", line.Line.Element);
                w.WriteString("line", line.Line.Name);
                w.WriteString("siegbahn", line.Line.SiegbahnName);
                w.WriteNumber("kev", Math.Round(line.Line.EnergyKeV, 4));
                w.WriteNumber("p", Math.Round(line.Probability, 4));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("elements");
            foreach (var element in identification.Elements)
            {
                w.WriteStartObject();
                w.WriteString("el", element.Symbol);
                w.WriteNumber("z", element.AtomicNumber);
                w.WriteNumber("p", Math.Round(element.Probability, 4));
                w.WriteStartArray("lines");
                foreach (var name in element.SupportingLines)
                {
                    w.WriteStringValue(name);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("not_assessed");
            foreach (var symbol in identification.NotAssessed)
            {
                w.WriteStringValue(symbol);
            }

            w.WriteEndArray();
            WriteNumber(w, "novelty", identification.NoveltyScore);
            InputCountsJson.Write(w, identification.Counts);
            EnergyCoverageJson.Write(w, identification.Coverage);
            w.WriteStartObject("model");
            w.WriteString("name", identification.Model.Name);
            w.WriteString("version", identification.Model.Version);
            w.WriteString("sha256", identification.Model.Sha256);
            w.WriteString("precision", identification.Model.Precision);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Returns a copy of <paramref name="payload"/> with <c>"historical":false</c> turned into <c>"historical":true</c> (same length).</summary>
    public static byte[] MarkHistorical(ReadOnlySpan<byte> payload)
    {
        var copy = payload.ToArray();
        var at = copy.AsSpan().IndexOf(LiveFlag);
        if (at >= 0)
        {
            HistoricalFlag.CopyTo(copy.AsSpan(at));
        }

        return copy;
    }

    /// <summary>SHA-256 (lowercase hex) over the counts as little-endian int64, for consumers to verify a fetched spectrum.</summary>
    public static string CountsHash(long[] counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(counts.AsSpan());
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, Iso(v));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}

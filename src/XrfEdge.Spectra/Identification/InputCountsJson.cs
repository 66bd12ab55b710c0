using System.Text.Json;

namespace XrfEdge.Spectra.Identification;

/// <summary>The <c>"counts"</c> object that identify --json and the detections payload share.</summary>
public static class InputCountsJson
{
    /// <summary>The status as written: "within", "below" or "above".</summary>
    public static string StatusName(CountRangeStatus status) => status switch
    {
        CountRangeStatus.Within => "within",
        CountRangeStatus.Below => "below",
        CountRangeStatus.Above => "above",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown count-range status"),
    };

    /// <summary>
    /// Writes <c>"counts":{"total":…,"trained_low":…,"trained_high":…,"status":"above","input_scale":…}</c>, or nothing
    /// when <paramref name="counts"/> is null (a model card without a trained range).
    /// </summary>
    public static void Write(Utf8JsonWriter writer, InputCounts? counts)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (counts is null)
        {
            return;
        }

        writer.WriteStartObject("counts");
        writer.WriteNumber("total", Math.Round(counts.Total));
        writer.WriteNumber("trained_low", Math.Round(counts.TrainedLow));
        writer.WriteNumber("trained_high", Math.Round(counts.TrainedHigh));
        writer.WriteString("status", StatusName(counts.Status));
        writer.WriteNumber("input_scale", Math.Round(counts.InputScale, 6));
        writer.WriteEndObject();
    }

    /// <summary>A one-line operator warning for a spectrum outside the trained range, or null inside it.</summary>
    public static string? Warning(InputCounts? counts) => counts?.Status switch
    {
        CountRangeStatus.Above when counts.InputScale < 1 =>
            FormattableString.Invariant($"{counts.Total:G3} counts, above the {counts.TrainedHigh:G3} the model was trained on: identified at {counts.TrainedHigh:G3} counts (input × {counts.InputScale:G3})"),
        CountRangeStatus.Above =>
            FormattableString.Invariant($"{counts.Total:G3} counts, above the {counts.TrainedHigh:G3} the model was trained on: identified as measured; treat the result with care"),
        CountRangeStatus.Below =>
            FormattableString.Invariant($"{counts.Total:G3} counts, fewer than the {counts.TrainedLow:G3} the model was trained on: identified as measured; a longer measurement gives a surer result"),
        _ => null,
    };
}

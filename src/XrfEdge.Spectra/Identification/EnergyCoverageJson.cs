using System.Text.Json;

namespace XrfEdge.Spectra.Identification;

/// <summary>The <c>"coverage"</c> object that identify --json and the detections payload share.</summary>
public static class EnergyCoverageJson
{
    /// <summary>The status as written: "full", "partial", "below_trained" or "partial_unrated".</summary>
    public static string StatusName(CoverageStatus status) => status switch
    {
        CoverageStatus.Full => "full",
        CoverageStatus.Partial => "partial",
        CoverageStatus.BelowTrained => "below_trained",
        CoverageStatus.PartialUnrated => "partial_unrated",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown coverage status"),
    };

    /// <summary>
    /// Writes <c>"coverage":{"upper_kev":15.0,"trained_min_kev":20,"status":"below_trained"}</c> (trained_min_kev null
    /// when the card does not state it), or nothing when <paramref name="coverage"/> is null.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, EnergyCoverage? coverage)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (coverage is null)
        {
            return;
        }

        writer.WriteStartObject("coverage");
        writer.WriteNumber("upper_kev", Math.Round(coverage.UpperKeV, 3));
        if (coverage.TrainedMinKeV is { } min)
        {
            writer.WriteNumber("trained_min_kev", Math.Round(min, 3));
        }
        else
        {
            writer.WriteNull("trained_min_kev");
        }

        writer.WriteString("status", StatusName(coverage.Status));
        writer.WriteEndObject();
    }

    /// <summary>A one-line operator warning for a spectrum that ends below 30 keV, or null for full coverage.</summary>
    public static string? Warning(EnergyCoverage? coverage) => coverage?.Status switch
    {
        CoverageStatus.BelowTrained =>
            FormattableString.Invariant($"spectrum ends at {coverage.UpperKeV:0.0} keV, below the {coverage.TrainedMinKeV:0.#} keV full scale the model was trained on: the grid above is fed as zeros the model never saw, so elements may be missed and false ones reported; set the MCA full scale to 30 keV or more"),
        CoverageStatus.Partial =>
            FormattableString.Invariant($"spectrum ends at {coverage.UpperKeV:0.0} keV (within the full scales the model was trained on): lines above {coverage.UpperKeV:0.0} keV cannot be seen"),
        CoverageStatus.PartialUnrated =>
            FormattableString.Invariant($"spectrum ends at {coverage.UpperKeV:0.0} keV: lines above it cannot be seen; the model card does not state the full scales it was trained on, so whether results hold is not known"),
        _ => null,
    };
}

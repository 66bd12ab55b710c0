using System.Text.Json;

namespace XrfEdge.Spectra.Identification;

/// <summary>The <c>"coverage"</c> object that identify --json and the detections payload share.</summary>
public static class EnergyCoverageJson
{
    /// <summary>The status as written: "full", "partial", "below_trained", "partial_unrated" or "none".</summary>
    public static string StatusName(CoverageStatus status) => status switch
    {
        CoverageStatus.Full => "full",
        CoverageStatus.Partial => "partial",
        CoverageStatus.BelowTrained => "below_trained",
        CoverageStatus.PartialUnrated => "partial_unrated",
        CoverageStatus.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown coverage status"),
    };

    /// <summary>The start status as written: "trained", "above_trained" or "unrated".</summary>
    public static string StartStatusName(StartStatus status) => status switch
    {
        StartStatus.Trained => "trained",
        StartStatus.AboveTrained => "above_trained",
        StartStatus.Unrated => "unrated",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown start status"),
    };

    /// <summary>
    /// Writes <c>"coverage":{"upper_kev":15.0,"trained_min_kev":20,"status":"below_trained","lower_kev":0.0,
    /// "trained_max_start_kev":1.2,"lower_status":"trained"}</c> (trained_min_kev and trained_max_start_kev null when the
    /// card does not state them), or nothing when <paramref name="coverage"/> is null.
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
        writer.WriteNumber("lower_kev", Math.Round(coverage.LowerKeV, 3));
        if (coverage.TrainedMaxStartKeV is { } maxStart)
        {
            writer.WriteNumber("trained_max_start_kev", Math.Round(maxStart, 3));
        }
        else
        {
            writer.WriteNull("trained_max_start_kev");
        }

        writer.WriteString("lower_status", StartStatusName(coverage.LowerStatus));
        writer.WriteEndObject();
    }

    /// <summary>
    /// A one-line operator warning for a spectrum that ends below 30 keV or starts where the model's training spectra
    /// never did (both, joined by "; ", when both apply), or null when neither applies. A spectrum with no channel inside
    /// the grid gets that warning alone: what its start and end would add only repeats it.
    /// </summary>
    public static string? Warning(EnergyCoverage? coverage)
    {
        if (coverage is { Status: CoverageStatus.None })
        {
            var where = coverage.LowerKeV >= EnergyCoverage.GridUpperKeV ? "starts at or above 30 keV" : "ends at or below 0 keV";
            return $"spectrum {where}, wholly outside the model's 0-30 keV grid: the model was fed zeros only, so nothing on it can be identified and any element reported is not from it; check the energy calibration's offset";
        }

        var end = EndWarning(coverage);
        var start = StartWarning(coverage);
        return end is null ? start : start is null ? end : end + "; " + start;
    }

    /// <summary>
    /// The warning for the spectrum's start: one that starts above the highest trained discriminator, or (card without
    /// it) one that starts above the grid's first bin; null otherwise.
    /// </summary>
    public static string? StartWarning(EnergyCoverage? coverage) => coverage?.LowerStatus switch
    {
        StartStatus.AboveTrained =>
            FormattableString.Invariant($"spectrum starts at {coverage.LowerKeV:0.0#} keV, above the {coverage.TrainedMaxStartKeV:0.0#} keV up to which the model's training spectra started: the grid below is fed as zeros the model never saw, so elements may be missed and false ones reported; lines below {coverage.LowerKeV:0.0#} keV cannot be seen; check the energy calibration's offset"),
        StartStatus.Unrated when coverage.LowerKeV > EnergyCoverage.GridBinKeV + EnergyCoverage.ToleranceKeV =>
            FormattableString.Invariant($"spectrum starts at {coverage.LowerKeV:0.0#} keV: lines below it cannot be seen; the model card does not state where its training spectra started, so whether results hold is not known"),
        _ => null,
    };

    private static string? EndWarning(EnergyCoverage? coverage) => coverage?.Status switch
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

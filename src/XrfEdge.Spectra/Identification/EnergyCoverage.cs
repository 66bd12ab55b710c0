namespace XrfEdge.Spectra.Identification;

/// <summary>How much of the model grid (0–30 keV) a spectrum's channels cover, against the full scales the model was trained on.</summary>
public enum CoverageStatus
{
    /// <summary>The channels reach 29.95 keV, where the line catalogue ends: every line's energy is measured.</summary>
    Full,

    /// <summary>
    /// The channels end below 29.95 keV but at or above the smallest full scale the model was trained on: the bins above
    /// are fed as zeros, as in training; lines above the end cannot be seen.
    /// </summary>
    Partial,

    /// <summary>
    /// The channels end below the smallest full scale the model was trained on (by more than
    /// <see cref="EnergyCoverage.TrainedMarginKeV"/>): the zeros above the end are an input the model never saw; results
    /// may miss elements and report false ones.
    /// </summary>
    BelowTrained,

    /// <summary>
    /// The channels end below 29.95 keV and the model card does not state the full scales it was trained on: coverage is
    /// reported, no verdict on whether the model was trained on it.
    /// </summary>
    PartialUnrated,

    /// <summary>
    /// No channel lies inside the grid: the first channel starts at or above 30 keV, or the last ends at or below 0 keV
    /// (a calibration offset far off; ±50 keV is accepted). The model was fed zeros only, so nothing on the spectrum can
    /// be identified. Until 2026-11-24 a spectrum wholly above the grid read <see cref="Full"/> (its end capped at 30).
    /// </summary>
    None,
}

/// <summary>Where a spectrum's first channel starts, against where the model's training spectra started.</summary>
public enum StartStatus
{
    /// <summary>
    /// The first channel starts at or below the highest discriminator (lower-level threshold) of the training spectra,
    /// plus one grid bin: zeros below the start are what training's discriminators produced.
    /// </summary>
    Trained,

    /// <summary>
    /// The first channel starts above every training spectrum's discriminator: the zeros fed below the start are an input
    /// the model never saw, lines below it cannot be seen, and results may miss elements and report false ones.
    /// </summary>
    AboveTrained,

    /// <summary>The model card does not state its training spectra's discriminators: the start is reported, no verdict.</summary>
    Unrated,
}

/// <summary>
/// The energy coverage of the model grid by one spectrum: the upper energy edge of its last channel (capped at the
/// grid's 30 keV) against the model card's trained minimum full scale, and the lower energy edge of its first channel
/// (floored at 0) against the card's highest trained discriminator. A report only: the identifier feeds the model and
/// decodes the same whatever the statuses.
/// </summary>
/// <param name="UpperKeV">Upper energy edge of the spectrum's last channel, keV, capped at 30 and floored at 0.</param>
/// <param name="TrainedMinKeV">Smallest full scale the model was trained on (card "trained_full_scale_kev".min), or null when the card does not state it.</param>
/// <param name="Status">Where <paramref name="UpperKeV"/> falls.</param>
/// <param name="LowerKeV">Lower energy edge of the spectrum's first channel, keV, floored at 0 (the grid's start).</param>
/// <param name="TrainedMaxStartKeV">
/// Highest discriminator of the training spectra (card "trained_lower_threshold_kev".max): below it, every training
/// spectrum could have had zeros. Null when the card does not state it.
/// </param>
/// <param name="LowerStatus">Where <paramref name="LowerKeV"/> falls.</param>
public sealed record EnergyCoverage(
    double UpperKeV,
    double? TrainedMinKeV,
    CoverageStatus Status,
    double LowerKeV = 0,
    double? TrainedMaxStartKeV = null,
    StartStatus LowerStatus = StartStatus.Unrated)
{
    /// <summary>Width of one model-grid bin, keV: a start at or below it feeds every bin of the grid.</summary>
    public const double GridBinKeV = 0.1;

    /// <summary>Upper edge of the model grid, keV.</summary>
    public const double GridUpperKeV = 30.0;

    /// <summary>Channel edges this close below 30 keV count as reaching it (a calibration's rounding), keV.</summary>
    public const double ToleranceKeV = 1e-9;

    /// <summary>
    /// A spectrum ending at or above this covers every catalogue line, keV: the catalogue stops at 29.95 keV (its
    /// highest line is Sb Kβ1, 29.73 keV; LineCatalogTests). An MCA set to 30 keV with a small offset ends a few eV
    /// short of 30 (the simulated DP5: 29.973 keV) and would otherwise be reported <c>partial</c> on every spectrum.
    /// </summary>
    public const double FullFromKeV = 29.95;

    /// <summary>
    /// An end this far below the trained minimum still counts as trained, keV: one model-grid bin. The card's minimum is
    /// the profile's full scale (the true last channel's centre); training rebinned with the reported calibration, whose
    /// gain error (±0.5 % in <c>randomized</c>) puts the trained inputs' ends down to ≈ 19.9 keV for a 20 keV minimum.
    /// Measured on 3,000 <c>randomized</c> spectra (seed 3003): without this margin 5 ended at 19.93–19.98 keV and were
    /// flagged although they are training's own inputs; with it, none.
    /// </summary>
    public const double TrainedMarginKeV = 0.1;

    /// <summary>
    /// The coverage of a spectrum whose last channel ends at <paramref name="lastChannelUpperEdgeKeV"/> for a model
    /// trained on full scales from <paramref name="trainedMinKeV"/> (null: not known).
    /// </summary>
    public static EnergyCoverage Of(double lastChannelUpperEdgeKeV, double? trainedMinKeV) =>
        Compute(lastChannelUpperEdgeKeV, trainedMinKeV, 0, null);

    /// <summary>
    /// The coverage of a spectrum whose channels run from <paramref name="firstChannelLowerEdgeKeV"/> to
    /// <paramref name="lastChannelUpperEdgeKeV"/>, for a model trained on full scales from
    /// <paramref name="trainedMinKeV"/> and discriminators up to <paramref name="trainedMaxStartKeV"/> (null: not known).
    /// A start up to one grid bin (<see cref="TrainedMarginKeV"/>) above the highest discriminator still counts as
    /// trained: training rebinned with the reported calibration, whose offset error moves its own starts by up to that.
    /// </summary>
    public static EnergyCoverage Of(double firstChannelLowerEdgeKeV, double lastChannelUpperEdgeKeV, double? trainedMinKeV, double? trainedMaxStartKeV) =>
        Compute(lastChannelUpperEdgeKeV, trainedMinKeV, firstChannelLowerEdgeKeV, trainedMaxStartKeV);

    private static EnergyCoverage Compute(double lastChannelUpperEdgeKeV, double? trainedMinKeV, double firstChannelLowerEdgeKeV, double? trainedMaxStartKeV)
    {
        // Floored at 0 like the start: a calibration offset down to -50 keV is valid, and a spectrum wholly below 0 keV
        // wrote a negative upper_kev, which detections.schema.json refuses (until 2026-11-24).
        var upper = Math.Clamp(lastChannelUpperEdgeKeV, 0, GridUpperKeV);
        var status = lastChannelUpperEdgeKeV <= 0 || firstChannelLowerEdgeKeV >= GridUpperKeV ? CoverageStatus.None
            : upper >= FullFromKeV - ToleranceKeV ? CoverageStatus.Full
            : trainedMinKeV is not { } min ? CoverageStatus.PartialUnrated
            : upper >= min - TrainedMarginKeV - ToleranceKeV ? CoverageStatus.Partial
            : CoverageStatus.BelowTrained;
        var lower = Math.Clamp(firstChannelLowerEdgeKeV, 0, GridUpperKeV);
        var lowerStatus = trainedMaxStartKeV is not { } maxStart ? StartStatus.Unrated
            : lower <= maxStart + TrainedMarginKeV + ToleranceKeV ? StartStatus.Trained
            : StartStatus.AboveTrained;
        return new EnergyCoverage(upper, trainedMinKeV, status, lower, trainedMaxStartKeV, lowerStatus);
    }
}

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
}

/// <summary>
/// The energy coverage of the model grid by one spectrum: the upper energy edge of its last channel (capped at the
/// grid's 30 keV) against the model card's trained minimum full scale. A report only: the identifier feeds the model and
/// decodes the same whatever the status.
/// </summary>
/// <param name="UpperKeV">Upper energy edge of the spectrum's last channel, keV, capped at 30.</param>
/// <param name="TrainedMinKeV">Smallest full scale the model was trained on (card "trained_full_scale_kev".min), or null when the card does not state it.</param>
/// <param name="Status">Where <paramref name="UpperKeV"/> falls.</param>
public sealed record EnergyCoverage(double UpperKeV, double? TrainedMinKeV, CoverageStatus Status)
{
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
    public static EnergyCoverage Of(double lastChannelUpperEdgeKeV, double? trainedMinKeV)
    {
        var upper = Math.Min(lastChannelUpperEdgeKeV, GridUpperKeV);
        var status = upper >= FullFromKeV - ToleranceKeV ? CoverageStatus.Full
            : trainedMinKeV is not { } min ? CoverageStatus.PartialUnrated
            : upper >= min - TrainedMarginKeV - ToleranceKeV ? CoverageStatus.Partial
            : CoverageStatus.BelowTrained;
        return new EnergyCoverage(upper, trainedMinKeV, status);
    }
}

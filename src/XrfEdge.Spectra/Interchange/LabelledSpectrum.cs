namespace XrfEdge.Spectra.Interchange;

/// <summary>
/// A raw spectrum plus its optional ground truth, as carried by the <c>.jsonl</c> interchange format
/// (<c>../shared/reference/spectra-jsonl.md</c>). A <see langword="null"/> label list means "not given";
/// an empty list means "given, and empty" (e.g. a blank with no detectable element).
/// </summary>
/// <param name="Spectrum">The raw MCA spectrum with its calibration, times and excitation.</param>
public sealed record LabelledSpectrum(RawSpectrum Spectrum)
{
    /// <summary>Element symbols present in the sample <em>and detectable</em> in this spectrum (<c>elements</c>).</summary>
    public IReadOnlyList<string>? Elements { get; init; }

    /// <summary>Detectable lines as <c>"&lt;Symbol&gt;-&lt;IUPAC&gt;"</c>, e.g. <c>"Fe-KL3"</c> (<c>lines</c>).</summary>
    public IReadOnlyList<string>? Lines { get; init; }

    /// <summary>Element symbols left out of scoring: tube anode, Ar from air, undetectable (<c>ignore_elements</c>).</summary>
    public IReadOnlyList<string>? IgnoreElements { get; init; }

    /// <summary>The true composition, detectable or not (<c>elements_in_sample</c>, the paper's protocol).</summary>
    public IReadOnlyList<string>? ElementsInSample { get; init; }

    /// <summary>True when any ground-truth list is present.</summary>
    public bool HasLabels => Elements is not null || Lines is not null || IgnoreElements is not null || ElementsInSample is not null;
}

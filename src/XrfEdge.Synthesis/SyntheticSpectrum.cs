using XrfEdge.Spectra;

namespace XrfEdge.Synthesis;

/// <summary>One generated spectrum with its ground truth.</summary>
public sealed record SyntheticSpectrum
{
    /// <summary>The raw MCA spectrum with its <em>reported</em> calibration, live time and excitation.</summary>
    public required RawSpectrum Spectrum { get; init; }

    /// <summary>Catalogue lines (IUPAC names, "Fe-KL3") whose net counts within ±1.2 FWHM reach the Currie detection limit
    /// L_D = 2.71 + 4.65·√B over the background B under them; catalogue order.</summary>
    public required IReadOnlyList<string> Lines { get; init; }

    /// <summary>Catalogue elements with at least one line in <see cref="Lines"/>; ordered by Z.</summary>
    public required IReadOnlyList<string> Elements { get; init; }

    /// <summary>Every catalogue element in the sample, detectable or not (the true composition); ordered by Z.</summary>
    public required IReadOnlyList<string> ElementsInSample { get; init; }

    /// <summary>Elements left out of scoring: the tube anode, Ar (air), and elements in the sample that cannot be detected; ordered by Z.</summary>
    public required IReadOnlyList<string> IgnoreElements { get; init; }

    /// <summary>The paper's protocol label: every catalogue line of every catalogue element in the sample; catalogue order.</summary>
    public required IReadOnlyList<string> PaperLines { get; init; }

    /// <summary>The full sample composition including dark matrix elements (H, C, N).</summary>
    public required IReadOnlyList<ElementFraction> Composition { get; init; }

    /// <summary>The drawn instrument and acquisition conditions.</summary>
    public required SynthesisConditions Conditions { get; init; }
}

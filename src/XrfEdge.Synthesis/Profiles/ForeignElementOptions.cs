namespace XrfEdge.Synthesis.Profiles;

/// <summary>
/// Elements outside the 41-element catalogue in the sample (opt-in; generator version 1.3). Real samples hold them: Hf in commercial Zr metal
/// (up to 4.5 %), Rb, Y and Nb in rocks and soils, Nb, Ta, W and Hf in alloys, rare earths in ores. The encoder has no
/// output for them, and a model never shown one can read its lines as the nearest catalogue lines (Hf Lγ1 at 10.52 keV as
/// As Kα at 10.54 keV in the real NIST Zr standard, docs/real-spectra.md). Their lines are computed with the same
/// fundamental-parameter physics as catalogue lines (tube continuum and lines, the sample's absorption, path, detector,
/// escape peaks, pile-up) and never labelled: for any catalogue line they are background.
/// </summary>
/// <param name="Probability">Probability that a sample (any kind, thin films included) holds foreign elements, 0–1.</param>
/// <param name="Count">How many distinct foreign elements, rounded to an integer, 1–5.</param>
/// <param name="MassFraction">Mass fraction of each (log range), at most 0.05: they are minor or trace constituents and
/// are left out of the sample's absorption, an error below 5 % there.</param>
/// <param name="Elements">Symbols to draw from; null = every element of <c>foreign-lines.csv</c> (Sc Ga Se Rb Y Nb Ru In I
/// La Ce Nd Sm Gd Yb Hf Ta W Re Ir Tl Th U).</param>
public sealed record ForeignElementOptions(
    double Probability,
    ValueRange Count,
    ValueRange MassFraction,
    IReadOnlyList<string>? Elements = null);

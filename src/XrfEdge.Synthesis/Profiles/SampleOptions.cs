namespace XrfEdge.Synthesis.Profiles;

/// <summary>What kinds of samples a profile draws and how.</summary>
/// <param name="BlankWeight">Relative weight of blanks: a light matrix (acrylic, organic, water-like) with no catalogue element added.</param>
/// <param name="PureWeight">Relative weight of pure-element standards (one solid element, optional trace impurities).</param>
/// <param name="AlloyWeight">Relative weight of alloy-like metals: a base metal 50–99 % plus 1–5 alloying elements.</param>
/// <param name="MixtureWeight">Relative weight of mixtures: catalogue elements in a matrix.</param>
/// <param name="ElementCount">Number of catalogue elements added to a mixture, 1–10.</param>
/// <param name="MassFraction">Mass fraction of each added element (log range), e.g. 1e-6 (1 ppm) … 0.3.</param>
/// <param name="Matrices">Matrix kinds of mixtures: "none", "silicate", "igneous" (drawn per spectrum, opt-in), "igneous-sparse" (the same with a presence draw, opt-in), "carbonate", "carbonate-rock" (drawn per spectrum, opt-in), "organic", "acrylic", "pigment-binder", "water".</param>
/// <param name="ThinProbability">Probability that the sample is a thin layer (no matrix absorption) instead of infinitely thick.</param>
/// <param name="ThinMassThicknessGramsPerSquareCentimetre">Mass thickness of thin samples, g/cm²: 1e-5 … 1e-2.</param>
/// <param name="FiniteProbability">Probability that a sample that is not thin has a finite mass thickness (light
/// samples are transparent to hard X-rays: 5 mm of acrylic is 0.6 g/cm², 1/μ at 30 keV is 3 g/cm²), 0–1.</param>
/// <param name="FiniteMassThicknessGramsPerSquareCentimetre">That mass thickness, g/cm²: 0.05–3 (absent = 1).</param>
/// <param name="TraceImpurityProbability">Probability that a pure element, alloy or blank carries 1–3 trace impurities (1 ppm … 0.5 %).</param>
/// <param name="PureElements">Elements that pure-element samples are drawn from; null = every solid catalogue element
/// (all but O, F, Cl, Ar, Br). Set it to model a given set of standards.</param>
/// <param name="FixedComposition">When set, every sample has exactly this composition (mass fractions, normalised to 1;
/// any of the 48 tabulated elements incl. dark H, C, N) and the kind weights are ignored — for validation against a known
/// reference material.</param>
public sealed record SampleOptions(
    double BlankWeight,
    double PureWeight,
    double AlloyWeight,
    double MixtureWeight,
    ValueRange ElementCount,
    ValueRange MassFraction,
    IReadOnlyList<WeightedValue> Matrices,
    double ThinProbability,
    ValueRange ThinMassThicknessGramsPerSquareCentimetre,
    double TraceImpurityProbability,
    IReadOnlyList<string>? PureElements = null,
    IReadOnlyList<ElementFraction>? FixedComposition = null,
    double FiniteProbability = 0,
    ValueRange? FiniteMassThicknessGramsPerSquareCentimetre = null);

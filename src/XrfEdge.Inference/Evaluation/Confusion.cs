namespace XrfEdge.Inference.Evaluation;

/// <summary>
/// A recurring false report explained by a true element: <see cref="Reported"/> was reported though absent, while
/// <see cref="Actual"/> was present with a catalogue line within <see cref="IdentificationEvaluator.OverlapKeV"/> of
/// the false element's strongest reported line (a peak overlap, e.g. As-KL3 10.54 keV vs Pb-L3M5 10.55 keV).
/// </summary>
/// <param name="Reported">The falsely reported element.</param>
/// <param name="Actual">The present element whose line overlaps, or "(none)" when no present element has a line that close.</param>
/// <param name="Count">Spectra where this happened.</param>
public sealed record Confusion(string Reported, string Actual, long Count);

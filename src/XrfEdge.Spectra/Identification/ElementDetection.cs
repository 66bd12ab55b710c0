namespace XrfEdge.Spectra.Identification;

/// <summary>An element the identifier reports as present.</summary>
/// <param name="Symbol">Element symbol, e.g. "Fe".</param>
/// <param name="AtomicNumber">Z.</param>
/// <param name="Probability">Combined evidence of the element's lines (or the element head), 0–1.</param>
/// <param name="SupportingLines">IUPAC names of the reported lines that carry the element, strongest first.</param>
public sealed record ElementDetection(string Symbol, int AtomicNumber, float Probability, IReadOnlyList<string> SupportingLines);

using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Spectra.Identification;

/// <summary>A catalogue line the identifier reports as present.</summary>
/// <param name="Line">The catalogue line (name, energy, element).</param>
/// <param name="Probability">Encoder output for the line, 0–1.</param>
public sealed record LineDetection(EmissionLine Line, float Probability);

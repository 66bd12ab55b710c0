namespace XrfEdge.Inference.Model;

/// <summary>The card's description of the encoder input grid.</summary>
/// <param name="Name">Graph input name, "spectrum".</param>
/// <param name="Bins">Bin count, 300 (ModelGrid.BinCount).</param>
/// <param name="LowerKeV">Lower edge of bin 0, 0.0 keV.</param>
/// <param name="BinWidthKeV">Bin width, 0.1 keV.</param>
public sealed record ModelInputSpec(string Name, int Bins, double LowerKeV, double BinWidthKeV);

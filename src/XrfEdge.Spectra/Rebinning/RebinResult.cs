namespace XrfEdge.Spectra.Rebinning;

/// <summary>A spectrum rebinned to the <see cref="ModelGrid"/>.</summary>
/// <param name="Counts">Counts per model bin (fractional after redistribution), length <see cref="ModelGrid.BinCount"/>.</param>
/// <param name="CountsOutsideRange">Counts of source channels (or parts of them) outside 0–30 keV, dropped.</param>
/// <param name="TotalCounts">Total counts of the source spectrum; equals the sum of <paramref name="Counts"/> plus <paramref name="CountsOutsideRange"/>.</param>
public sealed record RebinResult(double[] Counts, double CountsOutsideRange, long TotalCounts);

namespace XrfEdge.Spectra.Catalog;

/// <summary>An element of the catalogue.</summary>
/// <param name="Symbol">Element symbol, e.g. "Fe".</param>
/// <param name="AtomicNumber">Z.</param>
/// <param name="Index">Position in <see cref="LineCatalog.Elements"/> (ordered by Z), 0–40; the element-head output index.</param>
public sealed record CatalogElement(string Symbol, int AtomicNumber, int Index = -1);

namespace XrfEdge.Spectra.Physics;

/// <summary>Atomic data of one element (xraylib 4.0, <c>Data/physics/elements.csv</c>).</summary>
/// <param name="AtomicNumber">Z, 1–83.</param>
/// <param name="Symbol">Element symbol.</param>
/// <param name="AtomicWeight">Atomic weight, g/mol (<c>AtomicWeight</c>).</param>
/// <param name="DensityGramsPerCubicCentimetre">Density of the pure element at room temperature, g/cm³ (<c>ElementDensity</c>; gases at STP).</param>
/// <param name="EdgesKeV">Absorption edges K, L1, L2, L3, M1 … M5, keV (<c>EdgeEnergy</c>); 0 where the shell does not exist.</param>
/// <param name="FluorescenceYieldK">K-shell fluorescence yield ω_K (<c>FluorYield</c>), 0–1.</param>
public sealed record ElementData(
    int AtomicNumber,
    string Symbol,
    double AtomicWeight,
    double DensityGramsPerCubicCentimetre,
    IReadOnlyList<double> EdgesKeV,
    double FluorescenceYieldK)
{
    /// <summary>K-shell absorption edge, keV.</summary>
    public double EdgeKKeV => EdgesKeV[0];
}

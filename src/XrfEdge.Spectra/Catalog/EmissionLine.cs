namespace XrfEdge.Spectra.Catalog;

/// <summary>One characteristic emission line of the catalogue; one encoder output neuron.</summary>
/// <param name="Index">Position in the catalogue and in the encoder's output vector, 0–555.</param>
/// <param name="Element">Element symbol, e.g. "Fe".</param>
/// <param name="AtomicNumber">Z, 8 (O) – 83 (Bi).</param>
/// <param name="Name">IUPAC name with element, e.g. "Fe-KL3".</param>
/// <param name="SiegbahnName">Siegbahn alias with element, e.g. "Fe Ka1" (documented alias only).</param>
/// <param name="EnergyKeV">Line energy, keV (xraylib <c>LineEnergy</c>), 0.1–29.95 keV.</param>
/// <param name="RadiativeRate">Fraction of the initial vacancy's radiative decays going to this line (xraylib <c>RadRate</c>), 0–1; 0 for lines xraylib has no rate for.</param>
/// <param name="Shell">Initial vacancy shell: "K", "L1", "L2", "L3", "M1" … "M5".</param>
/// <param name="EdgeKeV">Absorption-edge energy of <paramref name="Shell"/>, keV (xraylib <c>EdgeEnergy</c>): the line
/// can be excited only by photons above it, so a tube at V kV excites it only when EdgeKeV &lt; V.</param>
public sealed record EmissionLine(
    int Index,
    string Element,
    int AtomicNumber,
    string Name,
    string SiegbahnName,
    double EnergyKeV,
    double RadiativeRate,
    string Shell,
    double EdgeKeV)
{
    /// <summary>The IUPAC transition without the element, e.g. "KL3".</summary>
    public string Transition => Name[(Element.Length + 1)..];

    /// <summary>The line family from the vacancy shell: 'K', 'L' or 'M'.</summary>
    public char Family => Shell[0];
}

namespace XrfEdge.Spectra.Physics;

/// <summary>
/// A characteristic line of an element outside the 41-element catalogue (Hf, Nb, Rb, Y, W, rare earths, ...):
/// real samples hold such elements, and the encoder has no output for them. The generator renders their lines as
/// unlabelled peaks (profile option <c>foreign_elements</c>), with the same physics as catalogue lines.
/// </summary>
/// <param name="Index">Row in the foreign-line tables.</param>
/// <param name="Element">Element symbol, e.g. "Hf".</param>
/// <param name="AtomicNumber">Z.</param>
/// <param name="Name">Element and IUPAC transition, e.g. "Hf-L3M5".</param>
/// <param name="Shell">Initial vacancy, e.g. "L3".</param>
/// <param name="EnergyKeV">Line energy (<c>LineEnergy</c>), keV, 0.5–50.</param>
public sealed record ForeignLine(int Index, string Element, int AtomicNumber, string Name, string Shell, double EnergyKeV);

namespace XrfEdge.Spectra.Physics;

/// <summary>A characteristic line of an X-ray tube anode (xraylib 4.0, <c>Data/physics/anode-lines.csv</c>).</summary>
/// <param name="Index">Row in the anode-line tables (column of <c>line-xs-anode.bin</c>), 0-based.</param>
/// <param name="Anode">Anode element symbol: Cr, Cu, Mo, Rh, Ag or W.</param>
/// <param name="AtomicNumber">Z of the anode.</param>
/// <param name="Name">IUPAC name, e.g. "Rh-KL3".</param>
/// <param name="Shell">Initial vacancy shell: "K", "L1", "L2" or "L3".</param>
/// <param name="EnergyKeV">Line energy, keV (xraylib <c>LineEnergy</c>); 0.5–50 keV.</param>
/// <param name="EdgeKeV">Ionisation edge of <paramref name="Shell"/>, keV (<c>EdgeEnergy</c>); the tube excites the line only above it.</param>
/// <param name="FluorescenceYield">Fluorescence yield of the shell (<c>FluorYield</c>), 0–1.</param>
/// <param name="RadiativeRate">Share of the shell's radiative decays going to this line (<c>RadRate</c>), 0–1.</param>
/// <param name="JumpFactor">Edge jump factor of the shell (<c>JumpFactor</c>), dimensionless, 1–10.</param>
public sealed record AnodeLine(
    int Index,
    string Anode,
    int AtomicNumber,
    string Name,
    string Shell,
    double EnergyKeV,
    double EdgeKeV,
    double FluorescenceYield,
    double RadiativeRate,
    double JumpFactor);

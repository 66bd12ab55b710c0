namespace XrfEdge.Synthesis.Profiles;

/// <summary>
/// Bragg diffraction peaks of crystalline samples. A polycrystalline sample under a polychromatic beam diffracts the
/// continuum into peaks at E = hc / (2·d·sin θ_B), with θ_B half the scattering angle: narrow lines at energies set by
/// the lattice, not by any element. Metals, minerals and pigments show them (the real NIST Bruker standards do: Cr, Fe,
/// Ni, Cu at 3.4 keV and above, docs/synthesis-validation.md); they are not catalogue lines and are never labelled.
/// </summary>
/// <param name="Probability">Probability that a pure, alloy, mixture or fixed-composition sample that is not thin is
/// crystalline and shows diffraction peaks, 0–1 (blanks and thin films never do).</param>
/// <param name="PeakToContinuum">Height of the strongest reflection over the scattered continuum at its energy (log
/// range), e.g. 0.05–8. Weaker reflections get a random texture factor 0.003–1 on top.</param>
/// <param name="LatticeParameterAngstroms">Lattice parameter a of the random lattice (cubic P/I/F/diamond, hexagonal
/// with c/a 1.55–1.65, tetragonal with c/a 0.5–1.5), Å: 2.5–6.5 covers metals and simple minerals.</param>
/// <param name="AngularSpreadDegrees">Standard deviation of the Bragg angle over the beam and detector acceptance,
/// degrees: 0.3–4 (collimated handhelds small, polycapillary optics large). It widens a peak by E·cot θ_B·σ_θ.</param>
public sealed record DiffractionOptions(
    double Probability,
    ValueRange PeakToContinuum,
    ValueRange LatticeParameterAngstroms,
    ValueRange AngularSpreadDegrees);

namespace XrfEdge.Synthesis.Profiles;

/// <summary>A detector kind and the spread of its parameters.</summary>
/// <param name="Kind">"SDD" or "Si-PIN" (label only; the physics follows the numbers below).</param>
/// <param name="Weight">Relative weight of this option.</param>
/// <param name="FwhmMnKaElectronvolts">Resolution at Mn Kα (5.895 keV), eV: SDD 125–150, Si-PIN 170–220. The FWHM at other
/// energies follows sqrt(noise² + 2.355²·F·ε·E) with F = 0.115, ε = 3.85 eV.</param>
/// <param name="BeWindowMicrometres">Detector Be window, µm: 8–25.</param>
/// <param name="DeadLayerMicrometres">Si dead layer, µm: 0.01–0.1 (the NIST Bruker header says 0.03).</param>
/// <param name="ThicknessMicrometres">Active Si thickness, µm: 300–500.</param>
/// <param name="TailFraction">Fraction of each peak's counts in an exponential low-energy tail (incomplete charge collection), 0–0.1.</param>
/// <param name="ShelfFraction">Fraction of each peak's counts in a flat shelf from 0 keV up to the peak, 0–0.01.</param>
/// <param name="PileupResolvingTimeNanoseconds">Pile-up resolving time, ns: two photons closer than this sum. SDD 10–100, Si-PIN 100–600.</param>
/// <param name="LowerThresholdKeV">Low-level discriminator, keV: events below are not counted (0.2–1.0).</param>
/// <param name="ZeroPeakProbability">Probability that the MCA shows a zero-energy (reset/noise) peak, 0–1.</param>
/// <param name="ZeroPeakFraction">Share of all counts in that zero peak, 0–0.5 (about 0.4 on the NIST Bruker spectra).</param>
/// <param name="SiliconPeakFraction">Share of counts in the detector's own Si Kα peak (1.74 keV: fluorescence of the dead
/// layer and frame), 0–1e-3; an artefact, never labelled as Si in the sample. Null = none.</param>
/// <param name="EscapePeakScale">Share of the physical Si escape peaks left in the spectrum, 0–1: vendor software (the
/// Bruker NIST files, for one) removes escape peaks, others leave them. Null = 1 (uncorrected).</param>
/// <param name="LowEnergyBackground">The detector's low-energy background below a few keV; null = none.</param>
public sealed record DetectorOption(
    string Kind,
    double Weight,
    ValueRange FwhmMnKaElectronvolts,
    ValueRange BeWindowMicrometres,
    ValueRange DeadLayerMicrometres,
    ValueRange ThicknessMicrometres,
    ValueRange TailFraction,
    ValueRange ShelfFraction,
    ValueRange PileupResolvingTimeNanoseconds,
    [property: System.Text.Json.Serialization.JsonPropertyName("lower_threshold_kev")] ValueRange LowerThresholdKeV,
    double ZeroPeakProbability,
    ValueRange ZeroPeakFraction,
    ValueRange? SiliconPeakFraction = null,
    ValueRange? EscapePeakScale = null,
    LowEnergyBackgroundOption? LowEnergyBackground = null);

/// <summary>
/// A smooth background below a few keV that no peak explains: real SDDs show it (incomplete charge collection near the
/// entrance window, noise near the threshold, radiation scattered in the housing). The NIST Bruker acrylic blank has
/// 5–100× more counts at 0.3–1.5 keV than the shelf and scatter model give (docs/synthesis-validation.md), and a model
/// trained without it reads it as Mg, F or O.
/// </summary>
/// <param name="LevelPerKeV">Plateau level as a share of the spectrum's total counts per keV (log range), e.g. 1e-5–1e-2.</param>
/// <param name="KneeKeV">Energy where the plateau has fallen to half, keV: 0.8–3.</param>
/// <param name="WidthKeV">Width of the roll-off, keV (Fermi-function shape): 0.1–1.</param>
public sealed record LowEnergyBackgroundOption(
    [property: System.Text.Json.Serialization.JsonPropertyName("level_per_kev")] ValueRange LevelPerKeV,
    [property: System.Text.Json.Serialization.JsonPropertyName("knee_kev")] ValueRange KneeKeV,
    [property: System.Text.Json.Serialization.JsonPropertyName("width_kev")] ValueRange WidthKeV);

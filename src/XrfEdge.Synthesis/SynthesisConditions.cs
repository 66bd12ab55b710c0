using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Synthesis;

/// <summary>The instrument and acquisition conditions drawn for one synthetic spectrum.</summary>
/// <param name="Anode">Tube anode symbol.</param>
/// <param name="TubeVoltageKilovolts">Tube voltage, kV (whole kV).</param>
/// <param name="Filter">Primary filter as "Al 100 µm", or "none".</param>
/// <param name="Monochromatic">True when excitation was the anode's strongest K line only.</param>
/// <param name="Path">"air", "helium" or "vacuum".</param>
/// <param name="PathLengthMillimetres">Path length each way, mm.</param>
/// <param name="ScatterAngleDegrees">Scattering angle, degrees, 90–150.</param>
/// <param name="Detector">"SDD" or "Si-PIN".</param>
/// <param name="FwhmMnKaElectronvolts">Resolution at Mn Kα, eV.</param>
/// <param name="TrueCalibration">The calibration the counts were generated with (the reported one is on the spectrum; they differ by drift).</param>
/// <param name="CountRateCountsPerSecond">Input count rate, counts/s.</param>
/// <param name="Matrix">Matrix name ("none", "silicate", "igneous", …).</param>
/// <param name="SampleKind">"blank", "pure", "alloy", "mixture" or "fixed".</param>
/// <param name="ThinMassThicknessGramsPerSquareCentimetre">Mass thickness of a thin sample, g/cm², or null for a thick one.</param>
/// <param name="FiniteMassThicknessGramsPerSquareCentimetre">Mass thickness of a finite (not thin, not infinitely thick) sample, g/cm², or null.</param>
public sealed record SynthesisConditions(
    string Anode,
    double TubeVoltageKilovolts,
    string Filter,
    bool Monochromatic,
    string Path,
    double PathLengthMillimetres,
    double ScatterAngleDegrees,
    string Detector,
    double FwhmMnKaElectronvolts,
    EnergyCalibration TrueCalibration,
    double CountRateCountsPerSecond,
    string Matrix,
    string SampleKind,
    double? ThinMassThicknessGramsPerSquareCentimetre,
    double? FiniteMassThicknessGramsPerSquareCentimetre = null);

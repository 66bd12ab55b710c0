namespace XrfEdge.Spectra;

/// <summary>Excitation conditions of a measurement.</summary>
/// <param name="Anode">Tube anode element symbol (e.g. "Rh", "Ag", "W"), or null when unknown.</param>
/// <param name="TubeVoltageKilovolts">Tube high voltage, kV; 10–60 kV on portable instruments.</param>
/// <param name="TubeCurrentMicroamperes">Tube current, µA; 1–200 µA on portable instruments, up to 1 mA on benchtops.</param>
public sealed record Excitation(string? Anode, double? TubeVoltageKilovolts, double? TubeCurrentMicroamperes);

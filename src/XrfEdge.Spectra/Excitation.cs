using System.Globalization;

namespace XrfEdge.Spectra;

/// <summary>Excitation conditions of a measurement.</summary>
/// <param name="Anode">Tube anode element symbol (e.g. "Rh", "Ag", "W"), or null when unknown.</param>
/// <param name="TubeVoltageKilovolts">Tube high voltage, kV; 10–60 kV on portable instruments.</param>
/// <param name="TubeCurrentMicroamperes">Tube current, µA; 1–200 µA on portable instruments, up to 1 mA on benchtops.</param>
public sealed record Excitation(string? Anode, double? TubeVoltageKilovolts, double? TubeCurrentMicroamperes)
{
    /// <summary>
    /// Lowest tube voltage accepted from a file, kV. The decoder drops every line whose edge the voltage cannot
    /// excite, so a voltage below 1 kV (a value in the wrong unit, say 0.05 for 50 kV) would silently empty the result.
    /// </summary>
    public const double MinTubeVoltageKilovolts = 1.0;

    /// <summary>Highest tube voltage accepted from a file, kV: above any XRF or SEM-EDS source (industrial tubes reach 160 kV).</summary>
    public const double MaxTubeVoltageKilovolts = 200.0;

    /// <summary>Checks a tube voltage read from a file; <see langword="null"/> when plausible, else a sentence saying why not.</summary>
    /// <param name="kilovolts">The voltage, kV.</param>
    public static string? CheckTubeVoltage(double kilovolts) =>
        double.IsFinite(kilovolts) && kilovolts is >= MinTubeVoltageKilovolts and <= MaxTubeVoltageKilovolts
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"tube voltage {kilovolts} kV is outside {MinTubeVoltageKilovolts}–{MaxTubeVoltageKilovolts} kV (a value in volts or in the wrong field?)");
}

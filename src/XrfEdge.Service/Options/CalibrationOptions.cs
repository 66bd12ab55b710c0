namespace XrfEdge.Service.Options;

/// <summary>
/// The <c>Calibration</c> section: the MCA's energy calibration E(channel) = OffsetKeV + GainKeVPerChannel·ch +
/// QuadraticKeVPerChannel2·ch², ch = channel centre. Measure it on a reference sample as described in
/// firmware-config/README.md.
/// </summary>
public sealed class CalibrationOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Calibration";

    /// <summary>Energy of channel 0's centre in keV (usual range −0.2 … 0.2).</summary>
    public double OffsetKeV { get; set; }

    /// <summary>keV per channel (0.005 … 0.05 for 2048–4096 channels over 20–40 keV).</summary>
    public double GainKeVPerChannel { get; set; } = 0.015;

    /// <summary>Quadratic term in keV per channel² (usually 0 or |q| &lt; 1e-6).</summary>
    public double QuadraticKeVPerChannel2 { get; set; }

    /// <summary>When true this calibration replaces one carried by the spectrum (replay files); MCA spectra carry none and always use it.</summary>
    public bool Override { get; set; }
}

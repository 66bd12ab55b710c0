using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Formats;

/// <summary>How <see cref="SpectrumFileReader"/> reads a file.</summary>
public sealed record SpectrumReadOptions
{
    /// <summary>Default options: format from extension/content, no fallback calibration.</summary>
    public static SpectrumReadOptions Default { get; } = new();

    /// <summary>
    /// Calibration for files that carry none (CSV of counts, an <c>.mca</c> without <c>&lt;&lt;CALIBRATION&gt;&gt;</c>,
    /// an all-zero <c>.spe</c> calibration, an <c>.msa</c> without <c>#XPERCHAN</c>). Refers to MCA channel numbers.
    /// Never overrides a calibration the file has. From <c>--offset-kev</c> and <c>--gain-kev-per-channel</c>.
    /// </summary>
    public EnergyCalibration? FallbackCalibration { get; init; }

    /// <summary>
    /// Tube anode symbol (e.g. "Rh") for spectra whose file names none: set as <see cref="Excitation.Anode"/> (with no
    /// voltage or current when the file has no excitation at all). Never overrides an anode the file states. The
    /// decoder does not assess the anode element (docs/inference.md, "Decoder rules"). From <c>--anode</c>.
    /// </summary>
    public string? FallbackAnode { get; init; }

    /// <summary>
    /// Negative channel values: null uses the format's rule — <see cref="NegativeCountHandling.ClampToZero"/> for EMSA/MAS
    /// (an exchange format for processed spectra), <see cref="NegativeCountHandling.Reject"/> for every raw MCA format.
    /// </summary>
    public NegativeCountHandling? NegativeCounts { get; init; }

    /// <summary>Forces a format instead of detecting it from the extension and the first line.</summary>
    public SpectrumFileFormat? Format { get; init; }
}

namespace XrfEdge.Spectra.Rebinning;

/// <summary>
/// The encoder's input for one spectrum: counts per <see cref="ModelGrid"/> bin as float32, with no other
/// transform. Any intensity transform (log, normalisation) is part of the model graph, so this is the
/// single preprocessing shared by training-data export and inference (<see cref="PreprocessingId"/>).
/// </summary>
public sealed class ModelInput
{
    /// <summary>
    /// Identifies this preprocessing; model cards record it and the encoder refuses a model trained on another.
    /// "rebin-counts-v1": fractional-overlap rebin to 300 × 0.1 keV, raw counts, float32.
    /// </summary>
    public const string PreprocessingId = "rebin-counts-v1";

    private ModelInput(float[] values) => Values = values;

    /// <summary>The 300 input values, counts per 0.1 keV bin.</summary>
    public float[] Values { get; }

    /// <summary>Builds the model input of a spectrum.</summary>
    /// <exception cref="ArgumentException">The calibration is not usable for the spectrum's channel count; the message names the spectrum.</exception>
    public static ModelInput From(RawSpectrum spectrum)
    {
        var values = new float[ModelGrid.BinCount];
        Fill(spectrum, values, stackalloc double[ModelGrid.BinCount]);
        return new ModelInput(values);
    }

    /// <summary>
    /// Writes the model input of <paramref name="spectrum"/> into <paramref name="destination"/>
    /// (length 300) using <paramref name="scratch"/> (length 300) — no allocation, for batch paths.
    /// </summary>
    /// <returns>Counts outside 0–30 keV.</returns>
    /// <exception cref="ArgumentException">The calibration is not usable for the spectrum's channel count; the message names the spectrum.</exception>
    public static double Fill(RawSpectrum spectrum, Span<float> destination, Span<double> scratch)
    {
        Rebinner.ThrowIfUnusable(spectrum);
        var outside = Rebinner.Rebin(spectrum.Counts, spectrum.Calibration, scratch);
        for (var bin = 0; bin < ModelGrid.BinCount; bin++)
        {
            destination[bin] = (float)scratch[bin];
        }

        return outside;
    }
}

namespace XrfEdge.Inference.Model;

/// <summary>
/// The discriminator (lower-level threshold) energies the model's training spectra were generated with: card
/// "trained_lower_threshold_kev", written by training/xrftrain/card.py from the training profile's
/// <c>detectors[].lower_threshold_kev</c>. Below its discriminator a training spectrum holds zeros, so a spectrum whose
/// first channel starts above <see cref="MaxKeV"/> feeds the model zeros below its start in a way it never saw.
/// </summary>
/// <param name="MinKeV">Lowest trained discriminator, keV.</param>
/// <param name="MaxKeV">Highest trained discriminator, keV.</param>
public sealed record TrainedLowerThreshold(double MinKeV, double MaxKeV)
{
    /// <summary>
    /// Exclusive upper limit of a card's values, keV: the generator refuses discriminators above 10 keV
    /// (GeneratorProfile.MaxLowerThresholdKeV), so a larger value is a broken card.
    /// </summary>
    public const double LimitKeV = 10;
}

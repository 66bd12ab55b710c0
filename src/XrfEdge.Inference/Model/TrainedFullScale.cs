namespace XrfEdge.Inference.Model;

/// <summary>
/// The MCA full scales (upper energy of the last channel) the model's training spectra were generated with: card
/// "trained_full_scale_kev", written by training/xrftrain/card.py from the training profile's <c>mca.full_scale_kev</c>.
/// A spectrum ending below <see cref="MinKeV"/> feeds the model zeros above its end in a way it never saw.
/// </summary>
/// <param name="MinKeV">Smallest trained full scale, keV.</param>
/// <param name="MaxKeV">Largest trained full scale, keV.</param>
public sealed record TrainedFullScale(double MinKeV, double MaxKeV);

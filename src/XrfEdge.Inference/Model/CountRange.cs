namespace XrfEdge.Inference.Model;

/// <summary>
/// The total counts on the model grid that the model was trained on (card "count_range": the training spectra's
/// 0.1st and 99.9th percentiles, training/xrftrain/card.py).
/// </summary>
/// <param name="LowTotal">Low end (counts).</param>
/// <param name="HighTotal">High end (counts).</param>
public sealed record CountRange(double LowTotal, double HighTotal);

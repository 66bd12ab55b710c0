namespace XrfEdge.Inference.Evaluation;

/// <summary>Per-element confusion counts over an evaluation.</summary>
/// <param name="Symbol">Element symbol.</param>
/// <param name="TruePositives">Spectra where it was present and reported.</param>
/// <param name="FalsePositives">Spectra where it was reported but absent.</param>
/// <param name="FalseNegatives">Spectra where it was present but not reported.</param>
public sealed record ElementCounts(string Symbol, long TruePositives, long FalsePositives, long FalseNegatives)
{
    /// <summary>Spectra where it was truly present (TP + FN).</summary>
    public long Support => TruePositives + FalseNegatives;

    /// <summary>TP / (TP + FP), NaN when never reported.</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN), NaN when never present.</summary>
    public double Recall => Support == 0 ? double.NaN : (double)TruePositives / Support;
}

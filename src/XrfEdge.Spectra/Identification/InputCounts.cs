namespace XrfEdge.Spectra.Identification;

/// <summary>Where a spectrum's total counts fall against the range the model was trained on.</summary>
public enum CountRangeStatus
{
    /// <summary>Inside the trained range.</summary>
    Within,

    /// <summary>Fewer counts than the model was trained on: reported as measured, with a warning.</summary>
    Below,

    /// <summary>More counts than the model was trained on.</summary>
    Above,
}

/// <summary>
/// The spectrum's total counts on the model grid (after rebinning, before anything else) against the model card's
/// trained range, and the factor the model input was multiplied by (1 unless the identifier brought an over-range
/// spectrum into the range; the stored spectrum is never changed).
/// </summary>
/// <param name="Total">Counts on the model grid as measured.</param>
/// <param name="TrainedLow">Low end of the card's trained range.</param>
/// <param name="TrainedHigh">High end of the card's trained range.</param>
/// <param name="Status">Where <paramref name="Total"/> falls.</param>
/// <param name="InputScale">Factor applied to the model input (≤ 1).</param>
public sealed record InputCounts(double Total, double TrainedLow, double TrainedHigh, CountRangeStatus Status, double InputScale);

using XrfEdge.Inference;

namespace XrfEdge.Service.Options;

/// <summary>The <c>Decoder</c> section: how line probabilities become elements.</summary>
public sealed class DecoderOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Decoder";

    /// <summary>Multiplier on the card's per-line thresholds (0.1 … 10; above 1 = fewer, surer detections).</summary>
    public double ThresholdScale { get; set; } = 1.0;

    /// <summary>Minimum element probability to report (0 … 1); null uses the card's element thresholds.</summary>
    public double? MinElementProbability { get; set; }

    /// <summary>
    /// Spectra with more counts than the model card's trained range: <c>ScaleDown</c> (default: identify the expected
    /// spectrum at the range's top) or <c>Report</c> (identify as measured). Either way the detection says so.
    /// </summary>
    public CountRangePolicy AboveTrainedCounts { get; set; } = CountRangePolicy.ScaleDown;

    /// <summary>Symbols never reported (for example the tube anode, <c>Rh</c>, or <c>Ar</c> from air).</summary>
    public string[] IgnoreElements { get; set; } = [];
}

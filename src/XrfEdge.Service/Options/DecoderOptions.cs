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

    /// <summary>Symbols never reported (for example the tube anode, <c>Rh</c>, or <c>Ar</c> from air).</summary>
    public string[] IgnoreElements { get; set; } = [];
}

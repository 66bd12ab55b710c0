namespace XrfEdge.Devices.Formats;

/// <summary>What a reader does with a negative channel value.</summary>
public enum NegativeCountHandling
{
    /// <summary>A negative count is an error naming the file, line and channel (raw MCA formats: it can only be corruption).</summary>
    Reject,

    /// <summary>
    /// Negative values are set to 0 and the number of channels and the sum removed are recorded in metadata
    /// (<c>clamped_negative_channels</c>, <c>clamped_negative_sum</c>). For processed exports: Bruker's EMSA files hold
    /// small negative values around 0.3 keV where the zero peak was subtracted.
    /// </summary>
    ClampToZero,
}

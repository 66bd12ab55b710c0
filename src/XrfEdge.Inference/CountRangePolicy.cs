namespace XrfEdge.Inference;

/// <summary>What the identifier does with a spectrum whose total counts exceed the model card's trained range.</summary>
public enum CountRangePolicy
{
    /// <summary>
    /// Multiply the model input by high/total, i.e. feed the model the expected spectrum of a shorter measurement at the
    /// same count rate, which is inside the trained range (the default; docs/real-spectra.md has the evidence).
    /// </summary>
    ScaleDown,

    /// <summary>Feed the spectrum as measured; the result still says it is above the range.</summary>
    Report,
}

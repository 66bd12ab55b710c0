namespace XrfEdge.Inference.Native;

/// <summary>ORT's GraphOptimizationLevel.</summary>
public enum GraphOptimizationLevel
{
    /// <summary>ORT_DISABLE_ALL.</summary>
    None = 0,

    /// <summary>ORT_ENABLE_BASIC: constant folding, redundant node removal.</summary>
    Basic = 1,

    /// <summary>ORT_ENABLE_EXTENDED: also operator fusions, including the QDQ → int8 kernel fusions.</summary>
    Extended = 2,

    /// <summary>ORT_ENABLE_ALL: also layout optimisations (hardware-specific; inspect, do not deploy, graphs saved at this level).</summary>
    All = 99,
}

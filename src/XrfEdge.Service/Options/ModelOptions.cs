namespace XrfEdge.Service.Options;

/// <summary>The <c>Model</c> section: the ONNX line encoder and its card.</summary>
public sealed class ModelOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Model";

    /// <summary>Model card (<c>*.card.json</c>); the ONNX file is found next to it. Relative paths resolve against the profile's folder's parent (the repository or /opt/xrfedge).</summary>
    public string CardPath { get; set; } = "models/xrf-line-encoder.card.json";

    /// <summary><c>int8</c> (default, smaller and faster on ARM) or <c>fp32</c>.</summary>
    public string Precision { get; set; } = "int8";

    /// <summary>Most spectra encoded in one call when several wait (1 … 4096); scan mode benefits from 256+.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>ONNX Runtime intra-op threads (0 = library default; 1–8).</summary>
    public int IntraOpThreads { get; set; } = 1;
}

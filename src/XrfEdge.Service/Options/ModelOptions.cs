namespace XrfEdge.Service.Options;

/// <summary>The <c>Model</c> section: the ONNX line encoder and its card.</summary>
public sealed class ModelOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Model";

    /// <summary>The ONNX encoder (<c>xrf-line-encoder.int8.onnx</c>, or the fp32 file). Relative paths resolve against the profile file's folder.</summary>
    public string Path { get; set; } = "../models/xrf-line-encoder.int8.onnx";

    /// <summary>The model card; null = <c>xrf-line-encoder.card.json</c> next to the model. The service refuses a model whose card does not match the catalogue.</summary>
    public string? CardPath { get; set; }

    /// <summary>ONNX Runtime shared library; null = the one shipped next to the executable (JetPack: a GPU build's libonnxruntime.so).</summary>
    public string? OnnxRuntimeLibraryPath { get; set; }

    /// <summary>Most spectra encoded in one call when several wait (1 … 4096); scan mode benefits from 256+.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>ONNX Runtime intra-op threads (0 = library default, up to 64; the boards have 4–12 cores).</summary>
    public int IntraOpThreads { get; set; } = 1;
}

using XrfEdge.Inference.Native;

namespace XrfEdge.Inference;

/// <summary>How <see cref="LineEncoder.Open"/> finds the card and the runtime and configures the session.</summary>
public sealed record LineEncoderOptions
{
    /// <summary>Card path; null = <c>&lt;stem&gt;.card.json</c> next to the model (stem = file name without .int8/.fp32 and .onnx).</summary>
    public string? CardPath { get; init; }

    /// <summary>libonnxruntime path; null = search (see <see cref="OnnxRuntime.LocateLibrary"/>).</summary>
    public string? OnnxRuntimeLibraryPath { get; init; }

    /// <summary>Session options (intra-op threads 1, graph optimisation all, deterministic compute).</summary>
    public OnnxSessionOptions Session { get; init; } = new();
}

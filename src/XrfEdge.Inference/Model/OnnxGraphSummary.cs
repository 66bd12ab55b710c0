namespace XrfEdge.Inference.Model;

/// <summary>What a model file's protobuf says about its graph, read without ONNX Runtime (see <see cref="OnnxModelReader"/>).</summary>
public sealed record OnnxGraphSummary
{
    /// <summary>ModelProto.ir_version.</summary>
    public long IrVersion { get; init; }

    /// <summary>Opset imports, "domain:version" ("" domain = ai.onnx).</summary>
    public required IReadOnlyList<string> Opsets { get; init; }

    /// <summary>Operator types with their node counts, "op" or "domain:op", in first-seen order (subgraphs and functions included).</summary>
    public required IReadOnlyList<KeyValuePair<string, int>> OpTypes { get; init; }

    /// <summary>Names of tensors that reference external data (data_location = EXTERNAL or external_data set).</summary>
    public required IReadOnlyList<string> ExternalDataTensors { get; init; }

    /// <summary>Main-graph initializer count.</summary>
    public int InitializerCount { get; init; }

    /// <summary>
    /// DequantizeLinear nodes whose data input is an initializer: in an optimised graph each one dequantises a weight on
    /// every run (reference §4.1: up to 2.2 ms per call), i.e. a QDQ group that ORT did not fuse.
    /// </summary>
    public int WeightDequantizeNodes { get; init; }

    /// <summary>Node count of the given op type (domain-qualified for non-default domains).</summary>
    public int Count(string opType) => OpTypes.FirstOrDefault(p => p.Key == opType).Value;
}

namespace XrfEdge.Inference.Native;

/// <summary>Name, element type and shape of a session input or output as ORT reports it.</summary>
/// <param name="Name">Tensor name in the graph, e.g. "spectrum".</param>
/// <param name="ElementType">Element type.</param>
/// <param name="Dimensions">Dimensions; -1 marks a dynamic (symbolic) dimension.</param>
/// <param name="SymbolicDimensions">Name of each dynamic dimension ("" when unnamed or fixed).</param>
public sealed record TensorMetadata(string Name, TensorElementType ElementType, IReadOnlyList<long> Dimensions, IReadOnlyList<string> SymbolicDimensions)
{
    /// <summary>Shape as text, e.g. "[N,300]".</summary>
    public string ShapeText => "[" + string.Join(',', Dimensions.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : "?")) + "]";
}

namespace XrfEdge.Inference.Model;

/// <summary>One model file a card vouches for.</summary>
/// <param name="Path">File name relative to the card's folder, e.g. "xrf-line-encoder.int8.onnx".</param>
/// <param name="Sha256">SHA-256 of the file, lowercase hex.</param>
public sealed record ModelFileEntry(string Path, string Sha256);

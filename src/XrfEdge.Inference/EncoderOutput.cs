namespace XrfEdge.Inference;

/// <summary>The encoder's outputs for one spectrum.</summary>
/// <param name="LineProbabilities">556 line probabilities (sigmoid applied), catalogue order.</param>
/// <param name="ElementProbabilities">41 element-head probabilities (LineCatalog.Elements order), or null without an element head.</param>
public sealed record EncoderOutput(float[] LineProbabilities, float[]? ElementProbabilities);

namespace XrfEdge.Spectra.Identification;

/// <summary>Which model produced an identification; published with every detection.</summary>
/// <param name="Name">Model name from its card, e.g. "xrf-line-encoder".</param>
/// <param name="Version">Model version from its card.</param>
/// <param name="Sha256">SHA-256 (lowercase hex) of the ONNX file that ran.</param>
/// <param name="Precision">"int8" or "fp32".</param>
public sealed record ModelIdentity(string Name, string Version, string Sha256, string Precision);

namespace XrfEdge.Synthesis;

/// <summary>One element of a synthetic sample.</summary>
/// <param name="Symbol">Element symbol, e.g. "Fe" or a dark matrix element "C".</param>
/// <param name="MassFraction">Mass fraction, 0–1 (1e-6 = 1 ppm).</param>
public sealed record ElementFraction(string Symbol, double MassFraction);

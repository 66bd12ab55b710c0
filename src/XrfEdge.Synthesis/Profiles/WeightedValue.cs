namespace XrfEdge.Synthesis.Profiles;

/// <summary>One option of a categorical choice (anode element, matrix kind), drawn with probability proportional to <see cref="Weight"/>.</summary>
/// <param name="Value">The option, e.g. "Rh" or "silicate".</param>
/// <param name="Weight">Relative weight, ≥ 0.</param>
public sealed record WeightedValue(string Value, double Weight = 1);

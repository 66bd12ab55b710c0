namespace XrfEdge.Synthesis.Profiles;

/// <summary>
/// A closed interval that a profile draws one value from per spectrum: uniformly, or log-uniformly when
/// <see cref="Log"/> is set (for quantities spanning decades: counts, mass fractions). Min = Max fixes the value.
/// The unit is the unit named by the property that holds the range.
/// </summary>
/// <param name="Min">Lower bound, inclusive.</param>
/// <param name="Max">Upper bound, inclusive; ≥ <paramref name="Min"/>.</param>
/// <param name="Log">Draw uniformly in log(value); both bounds must then be positive.</param>
public sealed record ValueRange(double Min, double Max, bool Log = false)
{
    /// <summary>A range holding a single value.</summary>
    public static ValueRange Fixed(double value) => new(value, value);

    /// <summary>Returns a sentence describing what is wrong with the range, or null when valid.</summary>
    public string? Validate(string name) =>
        !double.IsFinite(Min) || !double.IsFinite(Max) || Max < Min
            ? $"{name}: range [{Min}, {Max}] is empty or not finite"
            : Log && Min <= 0
                ? $"{name}: log range needs positive bounds, got [{Min}, {Max}]"
                : null;
}

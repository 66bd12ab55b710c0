namespace XrfEdge.Synthesis.Profiles;

/// <summary>A primary-beam filter between tube and sample.</summary>
/// <param name="Element">Filter element symbol (Al, Ti, Cu, …), or null for no filter.</param>
/// <param name="ThicknessMicrometres">Foil thickness, µm; typical 25–500 µm Al, 10–100 µm Ti/Cu.</param>
/// <param name="Weight">Relative weight of this option.</param>
public sealed record FilterOption(string? Element, ValueRange? ThicknessMicrometres = null, double Weight = 1);

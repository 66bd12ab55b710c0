namespace XrfEdge.Synthesis.Profiles;

/// <summary>The atmosphere between tube, sample and detector.</summary>
/// <param name="Medium">"air", "helium" or "vacuum".</param>
/// <param name="LengthMillimetres">Path length each way (tube→sample and sample→detector), mm; 2–20 mm on handhelds.</param>
/// <param name="Weight">Relative weight of this option.</param>
public sealed record PathOption(string Medium, ValueRange? LengthMillimetres = null, double Weight = 1);

namespace XrfEdge.Synthesis.Sampling;

/// <summary>
/// Matrix compositions (mass fractions) that the generator dilutes added elements in. H, C, N are "dark":
/// they absorb and scatter but have no catalogue lines; O, Si, Al, Ca … are catalogue elements and are part of
/// the sample's composition like any other.
/// </summary>
internal static class Matrices
{
    // Mass fractions from the stoichiometry of the named compounds.
    private static readonly Dictionary<string, (string Symbol, double Fraction)[]> Compositions = new(StringComparer.Ordinal)
    {
        ["none"] = [],
        // Granite-like silicate: SiO2 72 %, Al2O3 14 %, K2O 4 %, Na2O 3.5 %, CaO 2 % … as elements.
        ["silicate"] = [("O", 0.485), ("Si", 0.336), ("Al", 0.074), ("K", 0.033), ("Na", 0.026), ("Ca", 0.014), ("Mg", 0.005)],
        // CaCO3.
        ["carbonate"] = [("Ca", 0.4004), ("C", 0.1200), ("O", 0.4796)],
        // Cellulose C6H10O5.
        ["organic"] = [("C", 0.4445), ("H", 0.0622), ("O", 0.4934)],
        // PMMA C5H8O2 (the NIST acrylic blank).
        ["acrylic"] = [("C", 0.5998), ("H", 0.0805), ("O", 0.3196)],
        // Linseed-oil binder, roughly C18H30O2 (triglyceride fatty acids).
        ["pigment-binder"] = [("C", 0.7766), ("H", 0.1086), ("O", 0.1149)],
        // H2O.
        ["water"] = [("H", 0.1119), ("O", 0.8881)],
    };

    /// <summary>Known matrix names.</summary>
    public static IEnumerable<string> Names => Compositions.Keys;

    /// <summary>Light, blank-like matrices (no catalogue element but O).</summary>
    public static readonly string[] Blanks = ["acrylic", "organic", "water"];

    public static bool IsKnown(string name) => Compositions.ContainsKey(name);

    public static (string Symbol, double Fraction)[] Of(string name) => Compositions[name];
}

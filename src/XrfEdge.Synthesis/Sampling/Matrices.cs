using XrfEdge.Spectra.Physics;

namespace XrfEdge.Synthesis.Sampling;

/// <summary>
/// Matrix compositions (mass fractions) that the generator dilutes added elements in. H, C, N are "dark":
/// they absorb and scatter but have no catalogue lines; O, Si, Al, Ca … are catalogue elements and are part of
/// the sample's composition like any other.
/// </summary>
internal static class Matrices
{
    /// <summary>
    /// The one matrix drawn afresh for every spectrum: an igneous rock or glass anywhere from ultramafic/basalt to
    /// granite. Each oxide is drawn on its own (<see cref="IgneousOxides"/>), so K-free basalt, Mg-poor granite
    /// and every mix between occur: a fixed granite taught model 1.4.0 to report Mg and Na only next to a K peak
    /// (docs/real-spectra.md, BIR-1G).
    /// </summary>
    public const string Igneous = "igneous";

    /// <summary>
    /// Oxides of <see cref="Igneous"/>: cation, the oxide's formula (cations, oxygens per formula unit), and its
    /// mass-percent range (log-uniform unless <c>Log</c> is false). The ranges span the whole-rock analyses of common
    /// igneous rocks and the USGS basalt glasses (BIR-1G, BHVO-2G: MgO 7–10 %, K₂O 0.03–0.5 %) to granite
    /// (K₂O 4–6 %); SiO₂ is the remainder, kept within <see cref="MinSilicaPercent"/>–<see cref="MaxSilicaPercent"/>.
    /// </summary>
    public static readonly (string Symbol, int Cations, int Oxygens, double MinPercent, double MaxPercent, bool Log)[] IgneousOxides =
    [
        ("Al", 2, 3, 8, 20, false),    // Al2O3
        ("Fe", 1, 1, 0.3, 15, true),   // FeO (total iron)
        ("Mg", 1, 1, 0.03, 20, true),  // MgO
        ("Ca", 1, 1, 0.2, 15, true),   // CaO
        ("Na", 2, 1, 0.05, 6, true),   // Na2O
        ("K", 2, 1, 0.005, 7, true),   // K2O
        ("Ti", 1, 2, 0.02, 3.5, true), // TiO2
        ("Mn", 1, 1, 0.01, 0.3, true), // MnO
        ("P", 2, 5, 0.01, 0.6, true),  // P2O5
    ];

    /// <summary>
    /// <see cref="Igneous"/> with a presence draw (2026-11-24, opt-in): every oxide but Al₂O₃ is in a rock at all with
    /// probability <see cref="IgneousOxidePresence"/>, drawn on its own, so K-free, Mg-free, Fe-free and Ca-free rocks of
    /// every kind occur. Models trained with <see cref="Igneous"/> reported K in every spectrum of a K-free soil analogue
    /// that model 1.6.0 reads correctly (docs/training.md, "Open: light elements"), as a carbonate rock with every
    /// compound always present taught a model to report its light elements without reading their peaks.
    /// </summary>
    public const string IgneousSparse = "igneous-sparse";

    /// <summary>
    /// The chance that each oxide of <see cref="IgneousSparse"/> but Al₂O₃ is present. Al₂O₃ (8–20 %), the second major
    /// of every common igneous rock, is always there, which also bounds the scale-up that holds SiO₂ at its maximum
    /// to 2.5×.
    /// </summary>
    public const double IgneousOxidePresence = 0.5;

    /// <summary>
    /// SiO₂ bounds, mass percent: when the other oxides leave more than the maximum or less than the minimum, they
    /// are scaled (up or down) so that SiO₂ sits on the bound.
    /// </summary>
    public const double MinSilicaPercent = 42, MaxSilicaPercent = 80;

    /// <summary>
    /// The second matrix drawn afresh for every spectrum (2026-11-24): a carbonate rock anywhere from pure limestone
    /// to dolomite and marl. Each compound is drawn on its own (<see cref="CarbonateRockCompounds"/>) and CaCO₃ is the
    /// rest, so Mg, Si, Al and K occur at every level next to a dominant Ca. The fixed <c>carbonate</c> (pure CaCO₃)
    /// shows a light element only when a mixture adds one, which in the <c>randomized</c> profile leaves Mg labelled in
    /// about 8 of 20,000 spectra where Ca carries 40 % of the counts; model 1.6.0 reports Mg and Si in none of such
    /// synthetic carbonates behind air (docs/real-spectra.md, "Synthetic analogues").
    /// </summary>
    public const string CarbonateRock = "carbonate-rock";

    /// <summary>
    /// Compounds of <see cref="CarbonateRock"/> besides CaCO₃: cation, the compound's formula (cations, oxygens and
    /// carbons per formula unit) and its mass-percent range, log-uniform. MgCO₃ to 46 % is dolomite (MgO 21.9 %);
    /// SiO₂, Al₂O₃ and K₂O to 35, 10 and 3 % span siliceous limestones and marls; Sr substitutes for Ca (SrCO₃);
    /// SO₃ stands for gypsum or anhydrite. CaCO₃ is the remainder, at least <see cref="MinCalciteCarbonatePercent"/>.
    /// </summary>
    public static readonly (string Symbol, int Cations, int Oxygens, int Carbons, double MinPercent, double MaxPercent)[] CarbonateRockCompounds =
    [
        ("Mg", 1, 3, 1, 0.1, 46),     // MgCO3
        ("Si", 1, 2, 0, 0.1, 35),     // SiO2
        ("Al", 2, 3, 0, 0.03, 10),    // Al2O3
        ("Fe", 1, 1, 0, 0.02, 5),     // FeO (total iron)
        ("K", 2, 1, 0, 0.005, 3),     // K2O
        ("Na", 2, 1, 0, 0.005, 1.5),  // Na2O
        ("Sr", 1, 3, 1, 0.005, 1.5),  // SrCO3
        ("Mn", 1, 1, 0, 0.003, 1),    // MnO
        ("P", 2, 5, 0, 0.005, 1),     // P2O5
        ("S", 1, 3, 0, 0.01, 3),      // SO3
    ];

    /// <summary>
    /// The least CaCO₃, mass percent: when the other compounds leave less, they are scaled down so CaCO₃ sits on it,
    /// which keeps the rock a carbonate (Ca 12–40 % of the mass).
    /// </summary>
    public const double MinCalciteCarbonatePercent = 30;

    /// <summary>
    /// The chance that each compound of <see cref="CarbonateRockCompounds"/> is in a rock at all, drawn on its own, so
    /// that a pure calcite, a K-free dolomite and a marl without Mg all occur. With every compound always present (the
    /// matrix as first drawn, commit 7b0bdbf) a model trained on rocks alone reported Na, Mg, Al, Si and K in every
    /// carbonate, with or without them: it had learned that a carbonate holds them, not to read their peaks.
    /// </summary>
    public const double CarbonateRockCompoundPresence = 0.5;

    /// <summary>
    /// Mass shares in each compound of <see cref="CarbonateRockCompounds"/> and then CaCO₃, from
    /// <paramref name="tables"/>' atomic weights: (cation, carbon); oxygen is the rest.
    /// </summary>
    public static (double Cation, double Carbon)[] CarbonateRockShares(PhysicsTables tables)
    {
        var oxygen = Weight(tables, "O");
        var carbon = Weight(tables, "C");
        (double, double) Share(string symbol, int cations, int oxygens, int carbons)
        {
            var cation = cations * Weight(tables, symbol);
            var whole = cation + (oxygens * oxygen) + (carbons * carbon);
            return (cation / whole, carbons * carbon / whole);
        }

        return [.. CarbonateRockCompounds.Select(c => Share(c.Symbol, c.Cations, c.Oxygens, c.Carbons)), Share("Ca", 1, 3, 1)];
    }

    private static double Weight(PhysicsTables t, string symbol) =>
        t.TryGetElement(symbol, out var e) ? e.AtomicWeight : throw new InvalidOperationException($"physics tables lack {symbol}");

    /// <summary>
    /// Each igneous cation's mass share of its oxide, from <paramref name="tables"/>' atomic weights: one entry per
    /// <see cref="IgneousOxides"/> row, then Si in SiO₂.
    /// </summary>
    public static double[] IgneousCationShares(PhysicsTables tables)
    {
        var oxygen = Weight(tables, "O");
        double Share(string symbol, int cations, int oxygens)
        {
            var cation = cations * Weight(tables, symbol);
            return cation / (cation + (oxygens * oxygen));
        }

        return [.. IgneousOxides.Select(o => Share(o.Symbol, o.Cations, o.Oxygens)), Share("Si", 1, 2)];
    }

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
    public static IEnumerable<string> Names => Compositions.Keys.Append(Igneous).Append(IgneousSparse).Append(CarbonateRock);

    /// <summary>Light, blank-like matrices (no catalogue element but O).</summary>
    public static readonly string[] Blanks = ["acrylic", "organic", "water"];

    public static bool IsKnown(string name) =>
        name == Igneous || name == IgneousSparse || name == CarbonateRock || Compositions.ContainsKey(name);

    /// <summary>
    /// The fixed composition of <paramref name="name"/>; <see cref="Igneous"/>, <see cref="IgneousSparse"/> and
    /// <see cref="CarbonateRock"/> have none (use <see cref="DrawIgneous"/>, <see cref="DrawCarbonateRock"/>).
    /// </summary>
    public static (string Symbol, double Fraction)[] Of(string name) => Compositions[name];

    /// <summary>
    /// Draws one igneous composition as element mass fractions summing to 1: <paramref name="fractions"/>[i] is
    /// the cation of <see cref="IgneousOxides"/>[i]; the last two slots are Si and O. <paramref name="cationShares"/>
    /// comes from <see cref="IgneousCationShares"/>. <paramref name="sparse"/>: an <see cref="IgneousSparse"/> composition,
    /// where an absent oxide's slot is 0.
    /// </summary>
    public static void DrawIgneous(ref Rng rng, ReadOnlySpan<double> cationShares, Span<double> fractions, bool sparse = false)
    {
        var n = IgneousOxides.Length;
        Span<double> oxide = stackalloc double[n];
        var others = 0.0;
        for (var i = 0; i < n; i++)
        {
            var (symbol, _, _, min, max, log) = IgneousOxides[i];
            // The presence draw comes first and only in the sparse matrix, so `igneous` makes the same numbers as before
            // it existed; both numbers are drawn either way, so a presence does not shift the draws after it.
            var present = !sparse || symbol == "Al" || rng.Uniform(0, 1) < IgneousOxidePresence;
            var percent = log ? Math.Exp(rng.Uniform(Math.Log(min), Math.Log(max))) : rng.Uniform(min, max);
            oxide[i] = present ? percent : 0;
            others += oxide[i];
        }

        var scale = others > 100 - MinSilicaPercent ? (100 - MinSilicaPercent) / others
            : others < 100 - MaxSilicaPercent ? (100 - MaxSilicaPercent) / others
            : 1.0;
        var oxygen = 0.0;
        for (var i = 0; i < n; i++)
        {
            var percent = oxide[i] * scale;
            fractions[i] = percent * cationShares[i] / 100;
            oxygen += percent * (1 - cationShares[i]) / 100;
        }

        var silicaPercent = 100 - (others * scale);
        fractions[n] = silicaPercent * cationShares[n] / 100;
        fractions[n + 1] = oxygen + (silicaPercent * (1 - cationShares[n]) / 100);
    }

    /// <summary>
    /// Draws one carbonate-rock composition as element mass fractions summing to 1: <paramref name="fractions"/>[i]
    /// is the cation of <see cref="CarbonateRockCompounds"/>[i] (0 when the compound is absent); the last three slots are
    /// Ca, C and O.
    /// <paramref name="shares"/> comes from <see cref="CarbonateRockShares"/>.
    /// </summary>
    public static void DrawCarbonateRock(ref Rng rng, ReadOnlySpan<(double Cation, double Carbon)> shares, Span<double> fractions)
    {
        var n = CarbonateRockCompounds.Length;
        Span<double> compound = stackalloc double[n];
        var others = 0.0;
        for (var i = 0; i < n; i++)
        {
            var (_, _, _, _, min, max) = CarbonateRockCompounds[i];
            // Both numbers are drawn either way, so a compound's presence does not shift the draws of those after it.
            var present = rng.Uniform(0, 1) < CarbonateRockCompoundPresence;
            var percent = Math.Exp(rng.Uniform(Math.Log(min), Math.Log(max)));
            compound[i] = present ? percent : 0;
            others += compound[i];
        }

        var scale = others > 100 - MinCalciteCarbonatePercent ? (100 - MinCalciteCarbonatePercent) / others : 1.0;
        double carbon = 0, oxygen = 0;
        for (var i = 0; i < n; i++)
        {
            var mass = compound[i] * scale / 100;
            fractions[i] = mass * shares[i].Cation;
            carbon += mass * shares[i].Carbon;
            oxygen += mass * (1 - shares[i].Cation - shares[i].Carbon);
        }

        var calcite = 1 - (others * scale / 100);
        fractions[n] = calcite * shares[n].Cation;
        fractions[n + 1] = carbon + (calcite * shares[n].Carbon);
        fractions[n + 2] = oxygen + (calcite * (1 - shares[n].Cation - shares[n].Carbon));
    }
}

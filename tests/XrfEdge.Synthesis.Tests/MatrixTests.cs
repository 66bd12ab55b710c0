using XrfEdge.Spectra.Physics;
using XrfEdge.Synthesis.Sampling;

namespace XrfEdge.Synthesis.Tests;

/// <summary>The igneous matrix: one oxide composition drawn per spectrum, basalt to granite (docs/synthesis-profiles.md).</summary>
public sealed class MatrixTests
{
    private static readonly double[] Shares = Matrices.IgneousCationShares(PhysicsTables.Default);

    [Fact]
    public void DrawIgneous_ManyDraws_ClosedCompositionWithinSilicaBoundsAndOxideRanges()
    {
        var oxides = Matrices.IgneousOxides;
        var fractions = new double[oxides.Length + 2];
        for (var i = 0; i < 5000; i++)
        {
            var rng = new Rng(7, i);
            Matrices.DrawIgneous(ref rng, Shares, fractions);
            Assert.Equal(1.0, fractions.Sum(), 12);
            Assert.All(fractions, f => Assert.True(f > 0, $"draw {i}: a non-positive fraction {f}"));
            var silicaPercent = fractions[oxides.Length] / Shares[oxides.Length] * 100;
            Assert.InRange(silicaPercent, Matrices.MinSilicaPercent - 1e-9, Matrices.MaxSilicaPercent + 1e-9);
            for (var o = 0; o < oxides.Length; o++)
            {
                // Scaling moves the oxides only to put SiO2 on a bound: down by at most (100 − 42) / 87.4 (the sum of
                // the maxima) = × 0.664, up by at most (100 − 80) / 8.625 (the sum of the minima) = × 2.32.
                var percent = fractions[o] / Shares[o] * 100;
                Assert.InRange(percent, oxides[o].MinPercent * 0.66, oxides[o].MaxPercent * 2.33);
            }
        }
    }

    [Fact]
    public void IgneousCationShares_FromTableAtomicWeights_MatchOxideStoichiometry()
    {
        // Textbook mass shares (IUPAC weights): Al in Al2O3 52.93 %, K in K2O 83.01 %, P in P2O5 43.64 %, Si in SiO2 46.74 %.
        var oxides = Matrices.IgneousOxides;
        Assert.Equal(0.5293, Shares[Array.FindIndex(oxides, o => o.Symbol == "Al")], 3);
        Assert.Equal(0.8301, Shares[Array.FindIndex(oxides, o => o.Symbol == "K")], 3);
        Assert.Equal(0.4364, Shares[Array.FindIndex(oxides, o => o.Symbol == "P")], 3);
        Assert.Equal(0.4674, Shares[oxides.Length], 3);
    }

    [Fact]
    public void DrawIgneous_ManyDraws_CoversKFreeBasaltAndMgPoorGranite()
    {
        // The point of the matrix: Mg and Na must occur without K (BIR-1G: K2O 0.03 %, MgO 9.7 %) and K without Mg.
        var oxides = Matrices.IgneousOxides;
        int k = Array.FindIndex(oxides, o => o.Symbol == "K"), mg = Array.FindIndex(oxides, o => o.Symbol == "Mg");
        var fractions = new double[oxides.Length + 2];
        int basalt = 0, granite = 0;
        for (var i = 0; i < 2000; i++)
        {
            var rng = new Rng(8, i);
            Matrices.DrawIgneous(ref rng, Shares, fractions);
            basalt += fractions[k] < 0.001 && fractions[mg] > 0.03 ? 1 : 0;
            granite += fractions[k] > 0.025 && fractions[mg] < 0.006 ? 1 : 0;
        }

        Assert.InRange(basalt, 100, 1000);
        Assert.InRange(granite, 100, 1000);
    }

    /// <summary>The randomized profile with every mixture in the igneous matrix (the shipped profiles keep the granite).</summary>
    private static GeneratorProfile IgneousRandomized()
    {
        var p = GeneratorProfiles.Load("randomized");
        return p with { Samples = p.Samples with { Matrices = [new Profiles.WeightedValue(Matrices.Igneous)] } };
    }

    [Fact]
    public void Generate_IgneousMixtures_DetectMgWithoutKAndKWithoutMg()
    {
        // Labels, not compositions: what the encoder learns from. 1500 spectra hold ~900 igneous mixtures.
        // Mg (1.25 keV) is seen in ~10 % of them (it needs vacuum or He, a thin window and counts), K in ~55 %;
        // ~1.5 % show Mg without K. The fixed granite (K 3.3 %) can never show Mg without K.
        var generator = new SpectrumGenerator(IgneousRandomized(), 21);
        int igneous = 0, mgWithoutK = 0, kWithoutMg = 0;
        for (var i = 0; i < 1500; i++)
        {
            var s = generator.Generate(i);
            if (s.Conditions.Matrix != Matrices.Igneous)
            {
                continue;
            }

            igneous++;
            Assert.Equal("mixture", s.Conditions.SampleKind);
            Assert.Equal(1.0, s.Composition.Sum(c => c.MassFraction), 9);
            // Added elements come on top of the rock; every oxide of the rock is there.
            Assert.Superset(new HashSet<string>(["O", "Si", "Al", "Fe", "Mg", "Ca", "Na", "K", "Ti", "Mn", "P"]), s.Composition.Select(c => c.Symbol).ToHashSet());
            mgWithoutK += s.Elements.Contains("Mg") && !s.Elements.Contains("K") ? 1 : 0;
            kWithoutMg += s.Elements.Contains("K") && !s.Elements.Contains("Mg") ? 1 : 0;
        }

        Assert.InRange(igneous, 750, 1050);
        Assert.True(mgWithoutK >= 5, $"{mgWithoutK} of {igneous} igneous spectra detect Mg without K");
        Assert.True(kWithoutMg >= 10, $"{kWithoutMg} of {igneous} igneous spectra detect K without Mg");
    }

    [Fact]
    public void Generate_SameSeed_IgneousCompositionRepeats()
    {
        var a = new SpectrumGenerator(IgneousRandomized(), 21);
        var b = new SpectrumGenerator(IgneousRandomized(), 21);
        var found = 0;
        for (var i = 0; i < 200 && found < 5; i++)
        {
            var x = a.Generate(i);
            if (x.Conditions.Matrix != Matrices.Igneous)
            {
                continue;
            }

            found++;
            Assert.Equal(x.Composition, b.Generate(i).Composition);
        }

        Assert.True(found > 0, "no igneous spectrum in 200");
    }

    [Fact]
    public void IgneousMatrix_ValidInAProfile_AndNamedByNoShippedProfile()
    {
        // The matrix is opt-in: a profile names it like any other matrix. No shipped profile does: they must keep
        // making generator 1.2's spectra, bit for bit, so that `make model` reproduces model 1.4.0 (docs/training.md, run N).
        _ = new SpectrumGenerator(IgneousRandomized(), 1);
        Assert.Contains(Matrices.Igneous, Matrices.Names);
        Assert.All(new[] { "randomized", "handheld-sdd", "handheld-pin", "benchtop", "macro-xrf" },
            name => Assert.DoesNotContain(GeneratorProfiles.Load(name).Samples.Matrices, m => m.Value == Matrices.Igneous));
    }

    private static readonly (double Cation, double Carbon)[] RockShares = Matrices.CarbonateRockShares(PhysicsTables.Default);

    [Fact]
    public void CarbonateRockShares_FromTableAtomicWeights_MatchStoichiometry()
    {
        // Textbook mass shares (IUPAC weights): Ca in CaCO3 40.04 %, C in CaCO3 12.00 %, Mg in MgCO3 28.83 %,
        // Sr in SrCO3 59.35 %, S in SO3 40.05 %.
        var compounds = Matrices.CarbonateRockCompounds;
        Assert.Equal(0.4004, RockShares[compounds.Length].Cation, 0.0005);
        Assert.Equal(0.1200, RockShares[compounds.Length].Carbon, 0.0005);
        Assert.Equal(0.2883, RockShares[Array.FindIndex(compounds, c => c.Symbol == "Mg")].Cation, 0.0005);
        Assert.Equal(0.5935, RockShares[Array.FindIndex(compounds, c => c.Symbol == "Sr")].Cation, 0.0005);
        Assert.Equal(0.4005, RockShares[Array.FindIndex(compounds, c => c.Symbol == "S")].Cation, 0.0005);
        Assert.Equal(0.0, RockShares[Array.FindIndex(compounds, c => c.Symbol == "Si")].Carbon);
    }

    [Fact]
    public void DrawCarbonateRock_ManyDraws_ClosedCaDominatedCompositionWithinRanges()
    {
        var compounds = Matrices.CarbonateRockCompounds;
        var fractions = new double[compounds.Length + 3];
        var present = new int[compounds.Length];
        for (var i = 0; i < 5000; i++)
        {
            var rng = new Rng(9, i);
            Matrices.DrawCarbonateRock(ref rng, RockShares, fractions);
            Assert.Equal(1.0, fractions.Sum(), 12);
            Assert.All(fractions, f => Assert.True(f >= 0, $"draw {i}: a negative fraction {f}"));
            Assert.All(fractions[compounds.Length..], f => Assert.True(f > 0, $"draw {i}: no Ca, C or O"));
            var calcitePercent = fractions[compounds.Length] / RockShares[compounds.Length].Cation * 100;
            Assert.InRange(calcitePercent, Matrices.MinCalciteCarbonatePercent - 1e-9, 100);
            for (var c = 0; c < compounds.Length; c++)
            {
                if (fractions[c] == 0)
                {
                    continue;
                }

                present[c]++;
                // Scaling only lowers compounds, to keep CaCO3 at its minimum: by at most 70 / 106.5 (sum of the maxima).
                var percent = fractions[c] / RockShares[c].Cation * 100;
                Assert.InRange(percent, compounds[c].MinPercent * 0.65, compounds[c].MaxPercent + 1e-9);
            }
        }

        // Each compound is in about half the rocks, drawn on its own (5000 draws: ±0.035 is about 5 sigma).
        Assert.All(present, n => Assert.InRange(n / 5000.0, Matrices.CarbonateRockCompoundPresence - 0.035,
            Matrices.CarbonateRockCompoundPresence + 0.035));
    }

    [Fact]
    public void DrawCarbonateRock_ManyDraws_CoversLimestoneDolomiteAndMarl()
    {
        // The point of the matrix: Mg and Si at every level beside a dominant Ca, with and without K.
        var compounds = Matrices.CarbonateRockCompounds;
        int mg = Array.FindIndex(compounds, c => c.Symbol == "Mg"), si = Array.FindIndex(compounds, c => c.Symbol == "Si"),
            k = Array.FindIndex(compounds, c => c.Symbol == "K");
        var fractions = new double[compounds.Length + 3];
        int limestone = 0, dolomite = 0, marl = 0, mgWithoutK = 0, siWithoutMgOrK = 0;
        for (var i = 0; i < 2000; i++)
        {
            var rng = new Rng(10, i);
            Matrices.DrawCarbonateRock(ref rng, RockShares, fractions);
            limestone += fractions[mg] < 0.002 && fractions[si] < 0.002 ? 1 : 0;
            dolomite += fractions[mg] > 0.08 ? 1 : 0;
            marl += fractions[si] > 0.05 ? 1 : 0;
            mgWithoutK += fractions[mg] > 0.01 && fractions[k] == 0 ? 1 : 0;
            siWithoutMgOrK += fractions[si] > 0.01 && fractions[mg] == 0 && fractions[k] == 0 ? 1 : 0;
        }

        Assert.InRange(limestone, 400, 1200);
        Assert.InRange(dolomite, 40, 600);
        Assert.InRange(marl, 50, 600);
        Assert.InRange(mgWithoutK, 100, 800);
        Assert.InRange(siWithoutMgOrK, 50, 500);
    }

    /// <summary>The randomized profile with every mixture in the carbonate-rock matrix.</summary>
    private static GeneratorProfile CarbonateRockRandomized()
    {
        var p = GeneratorProfiles.Load("randomized");
        return p with { Samples = p.Samples with { Matrices = [new Profiles.WeightedValue(Matrices.CarbonateRock)] } };
    }

    [Fact]
    public void Generate_CarbonateRockMixtures_LabelMgAndSiBesideCa()
    {
        // Labels, not compositions: what the encoder learns from. With the fixed carbonate a light element is in the
        // sample only when a mixture adds one; here every rock holds them, and the labels mark them often enough to learn.
        var generator = new SpectrumGenerator(CarbonateRockRandomized(), 22);
        int rocks = 0, mg = 0, si = 0;
        for (var i = 0; i < 1500; i++)
        {
            var s = generator.Generate(i);
            if (s.Conditions.Matrix != Matrices.CarbonateRock)
            {
                continue;
            }

            rocks++;
            Assert.Equal("mixture", s.Conditions.SampleKind);
            Assert.Equal(1.0, s.Composition.Sum(c => c.MassFraction), 9);
            var symbols = s.Composition.Select(c => c.Symbol).ToHashSet();
            Assert.Superset(new HashSet<string>(["Ca", "C", "O"]), symbols);
            Assert.True(s.Composition.All(c => c.MassFraction > 0), "a component with no mass");
            mg += s.Elements.Contains("Mg") ? 1 : 0;
            si += s.Elements.Contains("Si") ? 1 : 0;
        }

        Assert.InRange(rocks, 750, 1050);
        Assert.True(mg >= rocks / 20, $"{mg} of {rocks} carbonate-rock spectra label Mg");
        Assert.True(si >= rocks / 10, $"{si} of {rocks} carbonate-rock spectra label Si");
    }

    [Fact]
    public void Generate_SameSeed_CarbonateRockCompositionRepeats()
    {
        var a = new SpectrumGenerator(CarbonateRockRandomized(), 23);
        var b = new SpectrumGenerator(CarbonateRockRandomized(), 23);
        var found = 0;
        for (var i = 0; i < 200 && found < 5; i++)
        {
            var x = a.Generate(i);
            if (x.Conditions.Matrix != Matrices.CarbonateRock)
            {
                continue;
            }

            found++;
            Assert.Equal(x.Composition, b.Generate(i).Composition);
        }

        Assert.True(found > 0, "no carbonate-rock spectrum in 200");
    }

    [Fact]
    public void CarbonateRockMatrix_ValidInAProfile_AndNamedByNoShippedProfile()
    {
        // Opt-in like igneous: the shipped profiles keep making the spectra model 1.6.0 was trained on, bit for bit.
        _ = new SpectrumGenerator(CarbonateRockRandomized(), 1);
        Assert.Contains(Matrices.CarbonateRock, Matrices.Names);
        Assert.True(Matrices.IsKnown(Matrices.CarbonateRock));
        Assert.All(new[] { "randomized", "handheld-sdd", "handheld-pin", "benchtop", "macro-xrf" },
            name => Assert.DoesNotContain(GeneratorProfiles.Load(name).Samples.Matrices, m => m.Value == Matrices.CarbonateRock));
    }

    [Fact]
    public void DrawIgneous_Sparse_ManyDraws_AlAlwaysAndEveryOtherOxideInAboutHalf()
    {
        var oxides = Matrices.IgneousOxides;
        var al = Array.FindIndex(oxides, o => o.Symbol == "Al");
        var fractions = new double[oxides.Length + 2];
        var present = new int[oxides.Length];
        for (var i = 0; i < 5000; i++)
        {
            var rng = new Rng(11, i);
            Matrices.DrawIgneous(ref rng, Shares, fractions, sparse: true);
            Assert.Equal(1.0, fractions.Sum(), 12);
            Assert.All(fractions, f => Assert.True(f >= 0, $"draw {i}: a negative fraction {f}"));
            Assert.True(fractions[al] > 0, $"draw {i}: no Al2O3");
            var silicaPercent = fractions[oxides.Length] / Shares[oxides.Length] * 100;
            Assert.InRange(silicaPercent, Matrices.MinSilicaPercent - 1e-9, Matrices.MaxSilicaPercent + 1e-9);
            for (var o = 0; o < oxides.Length; o++)
            {
                if (fractions[o] == 0)
                {
                    continue;
                }

                present[o]++;
                // Down by at most × 0.664 as in `igneous`; up by at most (100 − 80) / 8 = × 2.5 (Al2O3 alone at its minimum).
                var percent = fractions[o] / Shares[o] * 100;
                Assert.InRange(percent, oxides[o].MinPercent * 0.66, oxides[o].MaxPercent * 2.5 + 1e-9);
            }
        }

        Assert.Equal(5000, present[al]);
        // 5000 draws: ±0.035 is about 5 sigma.
        Assert.All(present.Where((_, o) => o != al), n => Assert.InRange(n / 5000.0, Matrices.IgneousOxidePresence - 0.035,
            Matrices.IgneousOxidePresence + 0.035));
    }

    /// <summary>The randomized profile with every mixture in <paramref name="matrix"/>.</summary>
    private static GeneratorProfile Randomized(string matrix)
    {
        var p = GeneratorProfiles.Load("randomized");
        return p with { Samples = p.Samples with { Matrices = [new Profiles.WeightedValue(matrix)] } };
    }

    [Fact]
    public void Generate_IgneousSparseMixtures_LabelKFreeSilicatesMoreOftenThanIgneous()
    {
        // The point of the presence draw: a silicate whose labels hold Si and Al but no K. `igneous` draws K2O down to
        // 0.005 %, so it has such rocks too; the sparse matrix must have clearly more, and no component without mass.
        (int Rocks, int KFree) Count(string matrix)
        {
            var generator = new SpectrumGenerator(Randomized(matrix), 24);
            int rocks = 0, kFree = 0;
            for (var i = 0; i < 1500; i++)
            {
                var s = generator.Generate(i);
                if (s.Conditions.Matrix != matrix)
                {
                    continue;
                }

                rocks++;
                Assert.Equal(1.0, s.Composition.Sum(c => c.MassFraction), 9);
                Assert.True(s.Composition.All(c => c.MassFraction > 0), $"spectrum {i}: a component with no mass");
                Assert.Superset(new HashSet<string>(["O", "Si", "Al"]), s.Composition.Select(c => c.Symbol).ToHashSet());
                kFree += s.Elements.Contains("Si") && s.Elements.Contains("Al") && !s.Elements.Contains("K") ? 1 : 0;
            }

            return (rocks, kFree);
        }

        var sparse = Count(Matrices.IgneousSparse);
        var igneous = Count(Matrices.Igneous);
        Assert.InRange(sparse.Rocks, 750, 1050);
        Assert.True(sparse.KFree >= igneous.KFree * 3 / 2,
            $"igneous-sparse labels {sparse.KFree} of {sparse.Rocks} K-free silicates, igneous {igneous.KFree} of {igneous.Rocks}");
    }

    [Fact]
    public void IgneousSparseMatrix_ValidInAProfile_AndNamedByNoShippedProfile()
    {
        _ = new SpectrumGenerator(Randomized(Matrices.IgneousSparse), 1);
        Assert.Contains(Matrices.IgneousSparse, Matrices.Names);
        Assert.True(Matrices.IsKnown(Matrices.IgneousSparse));
        Assert.All(new[] { "randomized", "handheld-sdd", "handheld-pin", "benchtop", "macro-xrf" },
            name => Assert.DoesNotContain(GeneratorProfiles.Load(name).Samples.Matrices, m => m.Value == Matrices.IgneousSparse));
    }
}

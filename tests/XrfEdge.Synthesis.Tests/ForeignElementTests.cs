using XrfEdge.Spectra.Physics;
using XrfEdge.Synthesis.Profiles;

namespace XrfEdge.Synthesis.Tests;

/// <summary>
/// Elements outside the catalogue (profile option <c>foreign_elements</c>): their lines are rendered with the catalogue
/// lines' physics and never labelled; drawn from the second stream after diffraction, so a profile without the option
/// makes exactly the spectra it made before.
/// </summary>
public sealed class ForeignElementTests
{
    private static GeneratorProfile ZrWithHf(double fraction, double probability = 1) =>
        TestProfiles.Fixed("Zr") with
        {
            ForeignElements = new ForeignElementOptions(probability, ValueRange.Fixed(1), ValueRange.Fixed(fraction), ["Hf"]),
        };

    private static double[] Expected(GeneratorProfile p, long index = 0)
    {
        var g = new SpectrumGenerator(p, 9);
        var ws = g.Rent();
        g.Simulate(index, ws);
        var expected = ws.Expected.AsSpan(0, ws.ChannelCount).ToArray();
        g.Return(ws);
        return expected;
    }

    // Test profile: 10 eV channels from 0 keV.
    private static double Window(double[] expected, double lowKeV, double highKeV) =>
        expected.AsSpan((int)Math.Round(lowKeV / 0.01), (int)Math.Round((highKeV - lowKeV) / 0.01)).ToArray().Sum();

    [Fact]
    public void Generate_ProbabilityZero_SameCountsAsWithoutTheOption()
    {
        var plain = TestProfiles.Fixed("Fe") with { Diffraction = new DiffractionOptions(0.5, ValueRange.Fixed(2), ValueRange.Fixed(3), ValueRange.Fixed(1)) };
        var off = plain with { ForeignElements = new ForeignElementOptions(0, new ValueRange(1, 3), new ValueRange(1e-5, 0.05, true)) };
        for (var i = 0; i < 4; i++)
        {
            var a = new SpectrumGenerator(plain, 7).Generate(i);
            var b = new SpectrumGenerator(off, 7).Generate(i);
            Assert.Equal(a.Spectrum.Counts, b.Spectrum.Counts);
            Assert.Equal(a.Lines, b.Lines);
            Assert.False(b.Spectrum.Metadata.ContainsKey("foreign_elements"));
        }
    }

    [Fact]
    public void HafniumInZirconium_ShowsItsLLinesAndLabelsNothingNew()
    {
        // 2 % Hf in Zr (commercial Zr holds up to 4.5 %): Hf Lα1 7.90, Lβ1 9.02 and Lγ1 10.52 keV stand well above the spectrum
        // without Hf, and the labels gain no element: Hf is not in the catalogue, and its Lγ1 is not As Kα (10.54 keV).
        var without = Expected(TestProfiles.Fixed("Zr"));
        var with = Expected(ZrWithHf(0.02));
        foreach (var (e, name) in new[] { (7.90, "Lα1"), (9.02, "Lβ1"), (10.52, "Lγ1") })
        {
            var a = Window(with, e - 0.1, e + 0.1);
            var b = Window(without, e - 0.1, e + 0.1);
            Assert.True(a > 1.5 * b, $"Hf {name} at {e} keV: {a:0} vs {b:0} expected counts without Hf");
        }

        var g0 = new SpectrumGenerator(TestProfiles.Fixed("Zr"), 9).Generate(0);
        var g1 = new SpectrumGenerator(ZrWithHf(0.02), 9).Generate(0);
        Assert.Subset(g0.Elements.ToHashSet(), g1.Elements.ToHashSet());
        Assert.DoesNotContain("As", g1.Elements);
        Assert.Equal("Hf:0.02", g1.Spectrum.Metadata["foreign_elements"]);
    }

    [Fact]
    public void HafniumLines_ScaleWithItsMassFraction()
    {
        // Trace elements do not change the sample's absorption here, so the Hf Lα net counts follow the mass fraction:
        // ten times the Hf gives ten times the peak (within the ≈ 2 % the fixed total count takes from everything else).
        var without = Expected(TestProfiles.Fixed("Zr"));
        double Net(double fraction) => Window(Expected(ZrWithHf(fraction)), 7.8, 8.0) - Window(without, 7.8, 8.0);
        var ratio = Net(0.02) / Net(0.002);
        Assert.InRange(ratio, 9.5, 10.2);
    }

    [Fact]
    public void ForeignTables_HoldTheLinesTheNistZrStandardShows()
    {
        // xraylib 4.0: Hf L3M5 (Lα1) 7.899 keV, L2N4 (Lγ1) 10.516 keV; Hf K lines (55.8 keV) lie beyond every tube.
        var hf = PhysicsTables.Default.ForeignLines.Where(l => l.Element == "Hf").ToDictionary(l => l.Name, l => l.EnergyKeV);
        Assert.Equal(7.899, hf["Hf-L3M5"], 3);
        Assert.Equal(10.516, hf["Hf-L2N4"], 3);
        Assert.DoesNotContain("Hf-KL3", hf.Keys);
        Assert.DoesNotContain(PhysicsTables.Default.ForeignLines, l => LineCatalogContains(l.Element));
    }

    private static bool LineCatalogContains(string symbol) =>
        XrfEdge.Spectra.Catalog.LineCatalog.Default.Elements.Any(e => e.Symbol == symbol);

    [Fact]
    public void Validate_BadForeignElementValues_NamedInTheProblems()
    {
        var bad = TestProfiles.Fixed("Fe") with
        {
            ForeignElements = new ForeignElementOptions(2, ValueRange.Fixed(0), ValueRange.Fixed(0.2), ["Fe", "Hf"]),
        };
        var problems = string.Join("\n", bad.Validate());
        Assert.Contains("foreign_elements.probability", problems);
        Assert.Contains("foreign_elements.count", problems);
        Assert.Contains("foreign_elements.mass_fraction", problems);
        Assert.Contains("'Fe' is not a foreign element", problems);
        Assert.DoesNotContain("'Hf'", problems);
    }

    [Fact]
    public void RandomDraws_PickDistinctElementsWithinTheRange()
    {
        var p = TestProfiles.Fixed("Fe") with { ForeignElements = new ForeignElementOptions(1, new ValueRange(2, 4), new ValueRange(1e-4, 0.01, true)) };
        var g = new SpectrumGenerator(p, 3);
        for (var i = 0; i < 20; i++)
        {
            var drawn = g.Generate(i).Spectrum.Metadata["foreign_elements"].Split(' ');
            Assert.InRange(drawn.Length, 2, 4);
            var symbols = drawn.Select(d => d.Split(':')[0]).ToArray();
            Assert.Equal(symbols.Length, symbols.Distinct().Count());
            Assert.All(drawn, d => Assert.InRange(double.Parse(d.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture), 1e-4 * 0.999, 0.01 * 1.001));
        }
    }
}

using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Tests;

public sealed class DecoderTests
{
    private static readonly LineCatalog Catalog = LineCatalog.Default;
    private static readonly ModelIdentity Model = new("fake", "0", new string('a', 64), "int8");

    private static EmissionLine Line(string name) => Catalog.TryGetLine(name, out var line) ? line : throw new KeyNotFoundException(name);

    private static Decoder Uniform(float threshold, bool head, double scale = 1.0) =>
        new(Catalog, Enumerable.Repeat(threshold, Catalog.Lines.Count).ToArray(), head ? Enumerable.Repeat(threshold, Catalog.Elements.Count).ToArray() : null, Model, scale);

    private static float[] Probabilities(params (string Line, float P)[] set)
    {
        var p = new float[Catalog.Lines.Count];
        foreach (var (name, value) in set)
        {
            p[Line(name).Index] = value;
        }

        return p;
    }

    [Fact]
    public void Decode_NoElementHead_CombinesLinesByNoisyOr()
    {
        var p = Probabilities(("Fe-KL3", 0.9f), ("Fe-KM3", 0.6f));

        var result = Uniform(0.5f, head: false).Decode("s", p, [], 40, null);

        var fe = Assert.Single(result.Elements);
        Assert.Equal("Fe", fe.Symbol);
        // 1 − (1 − 0.9)(1 − 0.6) = 0.96
        Assert.Equal(0.96f, fe.Probability, 1e-5f);
        Assert.Equal(["Fe-KL3", "Fe-KM3"], fe.SupportingLines);
        Assert.Equal(["Fe-KL3", "Fe-KM3"], result.Lines.Select(l => l.Line.Name));
    }

    [Fact]
    public void Decode_LineBelowThreshold_NotReported()
    {
        var p = Probabilities(("Fe-KL3", 0.49f));

        var result = Uniform(0.5f, head: false).Decode("s", p, [], 40, null);

        Assert.Empty(result.Lines);
        Assert.Empty(result.Elements);
    }

    [Fact]
    public void Decode_ThresholdScale_MultipliesThresholds()
    {
        var p = Probabilities(("Fe-KL3", 0.7f));

        // 0.5 × 1.5 = 0.75 > 0.7; 0.5 × 1.2 = 0.6 ≤ 0.7
        Assert.Empty(Uniform(0.5f, head: false, scale: 1.5).Decode("s", p, [], 40, null).Lines);
        Assert.Single(Uniform(0.5f, head: false, scale: 1.2).Decode("s", p, [], 40, null).Lines);
    }

    [Fact]
    public void Decode_LineNotExcitableAtTubeVoltage_DropsLineAndElement()
    {
        // Pb K edge is 88.0 keV (xraylib EdgeEnergy, K shell), far above a 50 kV tube; Pb-KL3 (75 keV) is also off-grid.
        // Ba-KL3 (32.2 keV) is off-grid too, so use Sn: K edge 29.2 keV, Sn-KL3 25.27 keV on the grid.
        var sn = Line("Sn-KL3");
        var p = Probabilities(("Sn-KL3", 0.95f));

        Assert.Empty(Uniform(0.5f, head: false).Decode("s", p, [], sn.EdgeKeV - 1, null).Elements);
        Assert.Single(Uniform(0.5f, head: false).Decode("s", p, [], sn.EdgeKeV + 1, null).Elements);
        // Unknown voltage: excitability is not checked.
        Assert.Single(Uniform(0.5f, head: false).Decode("s", p, [], null, null).Elements);
    }

    [Fact]
    public void Decode_OxygenKAlphaOfAVacuumSpectrum_ReportsOxygen()
    {
        // Regression (benchtop eval gap): O-KL3 (0.525 keV in the catalogue) is detectable in vacuum/He instruments and
        // labelled so by the generator; the old 1.0 keV air-path floor made O impossible to report. Head 0.9 and line
        // 0.95 are simply above the uniform 0.5 threshold; 50 kV is the benchtop profile's tube voltage.
        var oxygen = Line("O-KL3");
        Assert.True(oxygen.EnergyKeV < 1.0, "O Kα must lie below the former 1 keV floor for this test to mean anything");
        var elements = new float[Catalog.Elements.Count];
        elements[Catalog.ElementIndex("O")] = 0.9f;
        var p = Probabilities((oxygen.Name, 0.95f));

        var result = Uniform(0.5f, head: true).Decode("s", p, elements, 50, null);

        Assert.Contains(result.Lines, l => l.Line.Name == oxygen.Name);
        var o = Assert.Single(result.Elements);
        Assert.Equal("O", o.Symbol);
        Assert.Equal(0.9f, o.Probability);
    }

    [Fact]
    public void Decode_ElementHead_UsesHeadProbabilityButNeedsAVisibleLine()
    {
        var elements = new float[Catalog.Elements.Count];
        elements[Catalog.ElementIndex("Fe")] = 0.8f;
        elements[Catalog.ElementIndex("Cu")] = 0.9f; // strong head output but no Cu line reported
        var p = Probabilities(("Fe-KL3", 0.6f));

        var result = Uniform(0.5f, head: true).Decode("s", p, elements, 40, null);

        var fe = Assert.Single(result.Elements);
        Assert.Equal("Fe", fe.Symbol);
        Assert.Equal(0.8f, fe.Probability);
    }

    [Fact]
    public void Decode_ElementHeadBelowThreshold_ElementNotReportedButLineIs()
    {
        var elements = new float[Catalog.Elements.Count];
        elements[Catalog.ElementIndex("Fe")] = 0.3f;
        var p = Probabilities(("Fe-KL3", 0.6f));

        var result = Uniform(0.5f, head: true).Decode("s", p, elements, 40, null);

        Assert.Empty(result.Elements);
        Assert.Single(result.Lines);
    }

    [Fact]
    public void Decode_SeveralElements_StrongestFirst()
    {
        var p = Probabilities(("Fe-KL3", 0.6f), ("Cu-KL3", 0.99f), ("Zn-KL3", 0.8f));

        var result = Uniform(0.5f, head: false).Decode("s", p, [], 40, null);

        Assert.Equal(["Cu", "Zn", "Fe"], result.Elements.Select(e => e.Symbol));
        Assert.Equal(["Cu-KL3", "Zn-KL3", "Fe-KL3"], result.Lines.Select(l => l.Line.Name));
        Assert.Equal(556, result.LineProbabilities.Length);
        Assert.Same(Model, result.Model);
    }

    [Fact]
    public void Decode_ArgonAboveThreshold_NeverReportedAndListedNotAssessed()
    {
        // Ar is unlabelled in every training spectrum (air path), so no probability of it means anything.
        var p = Probabilities(("Ar-KL3", 0.99f), ("Ar-KM3", 0.9f), ("Fe-KL3", 0.9f));

        var result = Uniform(0.5f, head: false).Decode("s", p, [], 40, null);

        Assert.Equal(["Fe"], result.Elements.Select(e => e.Symbol));
        Assert.DoesNotContain(result.Lines, l => l.Line.Element == "Ar");
        Assert.Equal(["Ar"], result.NotAssessed);
        Assert.Equal(0.99f, result.LineProbabilities[Line("Ar-KL3").Index]);
    }

    [Fact]
    public void Decode_RhodiumWithRhodiumAnode_NotReportedButListedNotAssessed()
    {
        var p = Probabilities(("Rh-KL3", 0.98f), ("Rh-L3M5", 0.9f), ("Cu-KL3", 0.99f));
        var head = Enumerable.Repeat(0.99f, Catalog.Elements.Count).ToArray();

        var plain = Uniform(0.5f, head: false).Decode("s", p, [], 50, "Rh");
        var withHead = Uniform(0.5f, head: true).Decode("s", p, head, 50, "Rh");

        foreach (var result in new[] { plain, withHead })
        {
            Assert.Equal(["Cu"], result.Elements.Select(e => e.Symbol));
            Assert.Equal(["Cu-KL3"], result.Lines.Select(l => l.Line.Name));
            // By atomic number: Ar (18), Rh (45).
            Assert.Equal(["Ar", "Rh"], result.NotAssessed);
            Assert.Equal(0.98f, result.LineProbabilities[Line("Rh-KL3").Index]);
        }
    }

    [Theory]
    [InlineData("W", new[] { "Ar" })] // W is no catalogue element (src/XrfEdge.Spectra/Data/emission-lines.csv)
    [InlineData("Ag", new[] { "Ar", "Ag" })]
    public void Decode_RhodiumWithAnotherAnode_ReportsRhodium(string anode, string[] notAssessed)
    {
        // A W or Ag tube scatters its own lines, not Rh ones: Rh in the sample is assessed like any element.
        var p = Probabilities(("Rh-KL3", 0.98f), ("Ag-KL3", 0.97f));

        var result = Uniform(0.5f, head: false).Decode("s", p, [], 50, anode);

        Assert.Contains("Rh", result.Elements.Select(e => e.Symbol));
        Assert.Equal(anode != "Ag", result.Elements.Any(e => e.Symbol == "Ag"));
        Assert.Equal(notAssessed, result.NotAssessed);
    }

    [Fact]
    public void Decode_AnodeUnknownOrOutsideCatalogue_OnlyArgonNotAssessed()
    {
        var p = Probabilities(("Rh-KL3", 0.98f));

        Assert.Equal(["Rh"], Uniform(0.5f, head: false).Decode("s", p, [], 50, null).Elements.Select(e => e.Symbol));
        var outside = Uniform(0.5f, head: false).Decode("s", p, [], 50, "Xx");
        Assert.Equal(["Rh"], outside.Elements.Select(e => e.Symbol));
        Assert.Equal(["Ar"], outside.NotAssessed);
    }

    [Fact]
    public void Decode_ElementHeadNaN_ElementNotReported()
    {
        // A NaN head output is no evidence; reported, it also broke `identify --json` and the detection payload, whose
        // Utf8JsonWriter refuses NaN ("not a valid JSON number"). NaN fails every comparison, so "p < threshold" let it in.
        var elements = new float[Catalog.Elements.Count];
        elements[Catalog.ElementIndex("Fe")] = float.NaN;
        var p = Probabilities(("Fe-KL3", 0.9f));

        var result = Uniform(0.5f, head: true).Decode("s", p, elements, 40, null);

        Assert.Empty(result.Elements);
        Assert.Equal(["Fe-KL3"], result.Lines.Select(l => l.Line.Name));
    }

    [Fact]
    public void Decode_InfiniteOutputs_NeverReportedNotEvenArgon()
    {
        // Ar's lines (never assessed) and invisible lines carry +∞ thresholds, and +∞ ≥ +∞: an infinite output slipped past
        // the not-assessed rule. No sigmoid gives ±∞, so such an output is a broken graph, never evidence.
        var p = Probabilities(("Ar-KL3", float.PositiveInfinity), ("Fe-KL3", float.PositiveInfinity), ("Cu-KL3", 0.9f));
        var head = Enumerable.Repeat(float.PositiveInfinity, Catalog.Elements.Count).ToArray();
        head[Catalog.ElementIndex("Cu")] = 0.9f;

        foreach (var result in new[]
        {
            Uniform(0.5f, head: false).Decode("s", p, [], 40, null),
            Uniform(0.5f, head: true).Decode("s", p, head, 40, null),
        })
        {
            Assert.Equal(["Cu"], result.Elements.Select(e => e.Symbol));
            Assert.Equal(["Cu-KL3"], result.Lines.Select(l => l.Line.Name));
            Assert.Equal(["Ar"], result.NotAssessed);
        }
    }

    [Fact]
    public void Decode_TiedProbabilities_ListedByAtomicNumberAndCatalogueOrder()
    {
        // int8 outputs take 256 levels, so equal probabilities are common; "strongest first" must not leave their order
        // to the sort algorithm (introsort is unstable above 16 items: with 20 tied elements the order was scrambled).
        var symbols = Catalog.Elements.Select(e => e.Symbol).Where(s => s != "Ar").Take(20).ToArray();
        var p = new float[Catalog.Lines.Count];
        foreach (var line in Catalog.Lines.Where(l => symbols.Contains(l.Element)))
        {
            p[line.Index] = 0.75f;
        }

        var head = Enumerable.Repeat(0.75f, Catalog.Elements.Count).ToArray();

        var result = Uniform(0.5f, head: true).Decode("s", p, head, null, null);

        Assert.Equal(symbols, result.Elements.Select(e => e.Symbol));
        Assert.Equal(result.Lines.Select(l => l.Line.Index).Order(), result.Lines.Select(l => l.Line.Index));
    }

    [Fact]
    public void Decode_TubeVoltageBelowEveryEdgeOfAnElement_ListsItNotAssessed()
    {
        // At 2.0 kV no line of Pt, Au, Hg, Pb or Bi can be excited: their lowest edges (M5) are 2.12–2.58 keV
        // (src/XrfEdge.Spectra/Data/emission-lines.csv, edge_kev); Sr's L3 edge (1.94 keV) is below. Such an element was
        // simply not reported, which reads as "absent"; the training labels ignore it (no visible line).
        var p = Probabilities(("Pb-M5N7", 0.99f), ("Si-KL3", 0.9f));

        var low = Uniform(0.5f, head: false).Decode("s", p, [], 2.0, "Rh");
        var usual = Uniform(0.5f, head: false).Decode("s", p, [], 40, "Rh");

        Assert.Equal(["Si"], low.Elements.Select(e => e.Symbol));
        Assert.Equal(["Ar", "Rh", "Pt", "Au", "Hg", "Pb", "Bi"], low.NotAssessed);
        Assert.Equal(["Pb", "Si"], usual.Elements.Select(e => e.Symbol));
        Assert.Equal(["Ar", "Rh"], usual.NotAssessed);
    }

    [Fact]
    public void Constructor_WrongThresholdCount_Throws() =>
        Assert.Throws<ArgumentException>(() => new Decoder(Catalog, new float[10], null, Model));

    [Fact]
    public void Constructor_NonPositiveScale_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Uniform(0.5f, head: false, scale: 0));
}

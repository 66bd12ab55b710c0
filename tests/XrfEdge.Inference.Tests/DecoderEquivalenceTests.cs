using FsCheck;
using FsCheck.Fluent;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Tests;

/// <summary>The optimised <see cref="Decoder"/> gives exactly the <see cref="ReferenceDecoder"/>'s Identifications.</summary>
public sealed class DecoderEquivalenceTests
{
    private static readonly LineCatalog Catalog = LineCatalog.Default;
    private static readonly ModelIdentity Model = new("fake", "0", new string('a', 64), "int8");

    // 300 cases: about a second on one core.
    private static readonly Config Cases = Config.QuickThrowOnFailure.WithMaxTest(300);

    /// <summary>One decoder input: thresholds, probabilities (many ties and values at a threshold), voltage, anode, head.</summary>
    private sealed record Case(float[] LineThresholds, float[]? ElementThresholds, float[] Lines, float[] Elements, double? TubeVoltageKilovolts, string? Anode, double Scale);

    private static Gen<Case> Inputs =>
        from seed in Gen.Choose(0, int.MaxValue)
        from head in Gen.Elements(true, false)
        from voltage in Gen.Elements<double?>(null, 8.0, 15.0, 25.0, 40.0, 50.0, double.NaN)
        from scale in Gen.Elements(1.0, 0.5, 1.25)
        from anode in Gen.Elements<string?>(null, "Rh", "W", "Ag", "Ar", "Xx")
        select Make(seed, head, voltage, anode, scale);

    private static Case Make(int seed, bool head, double? voltage, string? anode, double scale)
    {
        var random = new Random(seed);
        // A few distinct levels make ties (equal probabilities) and exact threshold hits common, the cases where a
        // different candidate order or comparison would show; a NaN or +∞ now and then must never be reported.
        float[] levels = [0f, 0.1f, 0.25f, 0.5f, 0.5f, 0.75f, 0.9f, 0.99f, 1f, float.NaN, float.PositiveInfinity];
        float Level() => random.Next(3) == 0 ? levels[random.Next(levels.Length)] : (float)random.NextDouble();
        var lines = Enumerable.Range(0, Catalog.Lines.Count).Select(_ => random.Next(4) == 0 ? Level() : 0.05f * (float)random.NextDouble()).ToArray();
        var lineThresholds = Enumerable.Range(0, Catalog.Lines.Count).Select(_ => random.Next(5) == 0 ? 0.5f : (float)random.NextDouble()).ToArray();
        var elements = Enumerable.Range(0, Catalog.Elements.Count).Select(_ => Level()).ToArray();
        var elementThresholds = head ? Enumerable.Range(0, Catalog.Elements.Count).Select(_ => (float)random.NextDouble()).ToArray() : null;
        return new Case(lineThresholds, elementThresholds, lines, head ? elements : [], voltage, anode, scale);
    }

    [Fact]
    public void Decode_RandomOutputs_IdenticalToReference()
    {
        var property = Prop.ForAll(Inputs.ToArbitrary(), c =>
        {
            var expected = new ReferenceDecoder(Catalog, c.LineThresholds, c.ElementThresholds, Model, c.Scale).Decode("s", c.Lines, c.Elements, c.TubeVoltageKilovolts, c.Anode);
            var actual = new Decoder(Catalog, c.LineThresholds, c.ElementThresholds, Model, c.Scale).Decode("s", c.Lines, c.Elements, c.TubeVoltageKilovolts, c.Anode);
            return Describe(actual) == Describe(expected) && actual.LineProbabilities.AsSpan().SequenceEqual(expected.LineProbabilities);
        });
        Check.One(Cases, property);
    }

    [Fact]
    public void Decode_ManyLinesReported_IdenticalToReference()
    {
        // Every visible line at its threshold or above: the longest candidate list and sort the decoder can see.
        var thresholds = Enumerable.Repeat(0.3f, Catalog.Lines.Count).ToArray();
        var lines = Enumerable.Range(0, Catalog.Lines.Count).Select(i => 0.3f + (i % 7 * 0.1f)).ToArray();

        var expected = new ReferenceDecoder(Catalog, thresholds, null, Model, 1.0).Decode("s", lines, [], null, null);
        var actual = new Decoder(Catalog, thresholds, null, Model).Decode("s", lines, [], null, null);

        Assert.True(expected.Lines.Count > 400, $"{expected.Lines.Count} lines reported; the case needs most of the 556");
        Assert.Equal(Describe(expected), Describe(actual));
    }

    private static string Describe(Identification result) =>
        string.Join(';', result.Lines.Select(l => $"{l.Line.Name}={l.Probability:R}")) + "|" +
        string.Join(';', result.Elements.Select(e => $"{e.Symbol}/{e.AtomicNumber}={e.Probability:R}[{string.Join(',', e.SupportingLines)}]")) + "|" +
        result.SpectrumId + "|" + result.Model + "|" + string.Join(',', result.NotAssessed);
}

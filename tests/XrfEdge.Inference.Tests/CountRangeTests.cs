using System.Text.Json.Nodes;
using XrfEdge.Inference.Model;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Tests;

/// <summary>The trained count range of the card: spectra outside it are flagged, and above it scaled into it by default.</summary>
public sealed class CountRangeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-counts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(500.0, CountRangeStatus.Below, 1.0)]
    [InlineData(1000.0, CountRangeStatus.Within, 1.0)]
    [InlineData(4e6, CountRangeStatus.Within, 1.0)]
    [InlineData(8e6, CountRangeStatus.Above, 0.5)]
    public void CheckCounts_ScaleDown_StatusAndFactor(double total, CountRangeStatus status, double scale)
    {
        var check = SpectrumIdentifier.CheckCounts(total, new CountRange(1000, 4e6), CountRangePolicy.ScaleDown);
        Assert.Equal(new InputCounts(total, 1000, 4e6, status, scale), check);
    }

    [Fact]
    public void CheckCounts_Report_NeverScales()
    {
        var check = SpectrumIdentifier.CheckCounts(8e6, new CountRange(1000, 4e6), CountRangePolicy.Report);
        Assert.Equal(CountRangeStatus.Above, check.Status);
        Assert.Equal(1.0, check.InputScale);
    }

    [Fact]
    public void Identify_FourTimesTheTrainedTop_ScaleDownGivesTheModelTheSpectrumAtTheTop()
    {
        var (spectrum, total, big) = FourTimes(3);
        using var plain = LineEncoder.Open(TestModels.Int8);
        using var ranged = LineEncoder.Open(StageWithRange(total / 100, total));

        var atTop = new SpectrumIdentifier(plain).Identify(spectrum);
        var scaled = new SpectrumIdentifier(ranged).Identify(big);

        // 4·counts × (total / 4·total) = counts: the model saw exactly the spectrum at the top of the range.
        Assert.Equal(atTop.LineProbabilities, scaled.LineProbabilities);
        Assert.Equal(atTop.Elements.Select(e => e.Symbol), scaled.Elements.Select(e => e.Symbol));
        Assert.Equal(new InputCounts(4 * total, total / 100, total, CountRangeStatus.Above, 0.25), scaled.Counts);
        Assert.Null(atTop.Counts); // the test card states no range
    }

    [Fact]
    public void Identify_AboveRangeWithReport_ModelSeesTheSpectrumAsMeasured()
    {
        var (spectrum, total, big) = FourTimes(3);
        using var plain = LineEncoder.Open(TestModels.Int8);
        using var ranged = LineEncoder.Open(StageWithRange(total / 100, total));

        var asMeasured = new SpectrumIdentifier(plain).Identify(big);
        var reported = new SpectrumIdentifier(ranged, countRangePolicy: CountRangePolicy.Report).Identify(big);

        Assert.Equal(asMeasured.LineProbabilities, reported.LineProbabilities);
        Assert.Equal(CountRangeStatus.Above, reported.Counts!.Status);
        Assert.Equal(1.0, reported.Counts.InputScale);
        Assert.Contains("treat the result with care", InputCountsJson.Warning(reported.Counts), StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_BelowRange_FlaggedButUnchanged()
    {
        var spectrum = TestModels.SimulatedRaw(5);
        var total = (double)spectrum.Counts.Sum();
        using var plain = LineEncoder.Open(TestModels.Int8);
        using var ranged = LineEncoder.Open(StageWithRange(total * 2, total * 1000));

        var expected = new SpectrumIdentifier(plain).Identify(spectrum);
        var flagged = new SpectrumIdentifier(ranged).Identify(spectrum);

        Assert.Equal(expected.LineProbabilities, flagged.LineProbabilities);
        Assert.Equal(CountRangeStatus.Below, flagged.Counts!.Status);
        Assert.Contains("a longer measurement gives a surer result", InputCountsJson.Warning(flagged.Counts), StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_BatchMixingLevels_EachRowCheckedOnItsOwn()
    {
        var (spectrum, total, big) = FourTimes(3);
        using var ranged = LineEncoder.Open(StageWithRange(total / 100, total));
        var identifier = new SpectrumIdentifier(ranged, prePostParallelism: 2);

        // 70 rows: enough for the parallel rebin path (ParallelFromBatchSize = 64); every third row is 4× over the top.
        var batch = Enumerable.Range(0, 70).Select(i => i % 3 == 0 ? big with { Id = $"big{i}" } : spectrum with { Id = $"s{i}" }).ToArray();
        var results = identifier.Identify(batch);

        for (var i = 0; i < batch.Length; i++)
        {
            Assert.Equal(i % 3 == 0 ? 0.25 : 1.0, results[i].Counts!.InputScale);
            Assert.Equal(results[1].LineProbabilities, results[i].LineProbabilities);
        }
    }

    [Fact]
    public void InputCountsJson_Write_SnakeCaseObject()
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            InputCountsJson.Write(writer, new InputCounts(1.18e8, 1217, 2.76e7, CountRangeStatus.Above, 0.2339));
            InputCountsJson.Write(writer, null);
            writer.WriteEndObject();
        }

        var json = JsonNode.Parse(stream.ToArray())!["counts"]!;
        Assert.Equal(1.18e8, json["total"]!.GetValue<double>());
        Assert.Equal("above", json["status"]!.GetValue<string>());
        Assert.Equal(0.2339, json["input_scale"]!.GetValue<double>());
        Assert.Equal(2.76e7, json["trained_high"]!.GetValue<double>());
    }

    /// <summary>A simulated spectrum, its total counts, and the same spectrum with every count × 4 (still whole numbers).</summary>
    private static (RawSpectrum Spectrum, double Total, RawSpectrum Big) FourTimes(int seed)
    {
        var spectrum = TestModels.SimulatedRaw(seed);
        return (spectrum, spectrum.Counts.Sum(), spectrum with { Id = "x4", Counts = [.. spectrum.Counts.Select(c => c * 4)] });
    }

    /// <summary>Copies the int8 test model with a card that states a trained count range.</summary>
    private string StageWithRange(double low, double high) =>
        TestModels.StageInt8(_dir, card => card["count_range"] = new JsonObject { ["low_total"] = low, ["high_total"] = high });
}

using System.Text.Json.Nodes;
using XrfEdge.Inference.Model;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// The energy coverage of the 0–30 keV grid: a spectrum ending below 30 keV is reported (and below the card's trained
/// full scale flagged), never decoded differently.
/// </summary>
public sealed class EnergyCoverageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-coverage-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(150, 15.0, CoverageStatus.BelowTrained)]
    [InlineData(250, 25.0, CoverageStatus.Partial)]
    [InlineData(200, 20.0, CoverageStatus.Partial)] // exactly the trained minimum is trained
    [InlineData(199, 19.9, CoverageStatus.Partial)] // one grid bin short: training's own inputs (reported gain error) end there
    [InlineData(198, 19.8, CoverageStatus.BelowTrained)]
    [InlineData(300, 30.0, CoverageStatus.Full)]
    public void Identify_SpectrumCutAtChannel_CoverageAgainstTrainedMinimum(int channels, double upperKeV, CoverageStatus status)
    {
        using var encoder = LineEncoder.Open(StageWithFullScale(20, 60));
        var result = new SpectrumIdentifier(encoder).Identify(Cut(channels));
        var coverage = result.Coverage!;
        Assert.Equal(status, coverage.Status);
        Assert.Equal(20, coverage.TrainedMinKeV);
        Assert.Equal(upperKeV, coverage.UpperKeV, 9);
    }

    [Theory]
    [InlineData(29.973, 20.0, CoverageStatus.Full)] // the simulated DP5's 30 keV setting: a few eV short of 30
    [InlineData(29.95, 20.0, CoverageStatus.Full)] // where the catalogue ends
    [InlineData(29.94, 20.0, CoverageStatus.Partial)]
    [InlineData(29.94, double.NaN, CoverageStatus.PartialUnrated)]
    public void Of_EndNear30keV_FullFromWhereTheCatalogueEndsAndTheEndReportedAsMeasured(double end, double trainedMin, CoverageStatus status)
    {
        var coverage = EnergyCoverage.Of(end, double.IsNaN(trainedMin) ? null : trainedMin);

        Assert.Equal(status, coverage.Status);
        Assert.Equal(end, coverage.UpperKeV); // never rounded up to 30
        Assert.True(XrfEdge.Spectra.Catalog.LineCatalog.Default.Lines.Max(l => l.EnergyKeV) < EnergyCoverage.FullFromKeV); // every line lies below a 'full' end
    }

    [Fact]
    public void Identify_40keVFullScale_FullCappedAt30()
    {
        using var encoder = LineEncoder.Open(StageWithFullScale(20, 60));
        var raw = TestModels.SimulatedRaw(3);
        var gain = 40.0 / raw.Counts.Length; // 300 channels over 0–40 keV: last upper edge = 300 · gain
        var result = new SpectrumIdentifier(encoder).Identify(raw with { Calibration = new EnergyCalibration(gain / 2, gain) });
        Assert.Equal(new EnergyCoverage(30.0, 20, CoverageStatus.Full), result.Coverage);
        Assert.Null(EnergyCoverageJson.Warning(result.Coverage));
    }

    [Fact]
    public void Identify_15keVSpectrum_BelowTrainedWarnsButDecodesAsWithoutTheField()
    {
        var spectrum = Cut(150);
        using var plain = LineEncoder.Open(TestModels.Int8);
        using var rated = LineEncoder.Open(StageWithFullScale(20, 60));

        var unrated = new SpectrumIdentifier(plain).Identify(spectrum);
        var flagged = new SpectrumIdentifier(rated).Identify(spectrum);

        Assert.Equal(CoverageStatus.BelowTrained, flagged.Coverage!.Status);
        Assert.Contains("below the 20 keV full scale the model was trained on", EnergyCoverageJson.Warning(flagged.Coverage), StringComparison.Ordinal);
        AssertDecodedTheSame(unrated, flagged);
    }

    [Fact]
    public void Identify_CardWithoutTrainedFullScale_CoverageReportedNoVerdict()
    {
        using var plain = LineEncoder.Open(TestModels.Int8);
        Assert.Null(plain.Card.TrainedFullScale); // the test card predates the field, as the 1.6.0 card did
        var identifier = new SpectrumIdentifier(plain);

        var shortResult = identifier.Identify(Cut(150));
        Assert.Equal(CoverageStatus.PartialUnrated, shortResult.Coverage!.Status);
        Assert.Null(shortResult.Coverage.TrainedMinKeV);
        Assert.Equal(15.0, shortResult.Coverage.UpperKeV, 9);
        var warning = EnergyCoverageJson.Warning(shortResult.Coverage)!;
        Assert.Contains("does not state the full scales it was trained on", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("below the", warning, StringComparison.Ordinal);

        Assert.Equal(CoverageStatus.Full, identifier.Identify(Cut(300)).Coverage!.Status);
    }

    [Fact]
    public void Identify_BatchMixingFullScales_EachRowCheckedOnItsOwn()
    {
        using var encoder = LineEncoder.Open(StageWithFullScale(20, 60));
        var identifier = new SpectrumIdentifier(encoder, prePostParallelism: 2);
        // 70 rows: the parallel path (ParallelFromBatchSize = 64); alternately 15 keV and 30 keV.
        var batch = Enumerable.Range(0, 70).Select(i => Cut(i % 2 == 0 ? 150 : 300) with { Id = $"s{i}" }).ToArray();
        var results = identifier.Identify(batch);
        for (var i = 0; i < batch.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? CoverageStatus.BelowTrained : CoverageStatus.Full, results[i].Coverage!.Status);
        }
    }

    [Fact]
    public void Open_CardWithTrainedFullScale_ExposesIt()
    {
        using var encoder = LineEncoder.Open(StageWithFullScale(20, 60));
        Assert.Equal(new TrainedFullScale(20, 60), encoder.Card.TrainedFullScale);
    }

    [Theory]
    [InlineData(60.0, 20.0)]
    [InlineData(0.0, 20.0)]
    public void Open_TrainedFullScaleInvalid_RefusesNamingIt(double min, double max)
    {
        var model = StageWithFullScale(min, max);
        var e = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));
        Assert.Contains("trained_full_scale_kev", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedCard_StatesTheRandomizedProfileFullScale()
    {
        var card = ModelCard.Load(Path.Combine(RepositoryRoot.Require(), "models", "xrf-line-encoder.card.json"));
        Assert.Equal(new TrainedFullScale(20, 60), card.TrainedFullScale);
    }

    [Fact]
    public void EnergyCoverageJson_Write_SnakeCaseObjectNullMinimumWhenUnknown()
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            EnergyCoverageJson.Write(writer, EnergyCoverage.Of(15.0, null));
            EnergyCoverageJson.Write(writer, null);
            writer.WriteEndObject();
        }

        var json = JsonNode.Parse(stream.ToArray())!["coverage"]!;
        Assert.Equal(15.0, json["upper_kev"]!.GetValue<double>());
        Assert.Null(json["trained_min_kev"]);
        Assert.Equal("partial_unrated", json["status"]!.GetValue<string>());
        Assert.Equal(0.0, json["lower_kev"]!.GetValue<double>());
        Assert.Null(json["trained_max_start_kev"]);
        Assert.Equal("unrated", json["lower_status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(5.0, StartStatus.AboveTrained)] // a +5 keV calibration offset: the grid below 5 keV is zeros
    [InlineData(1.3, StartStatus.Trained)] // the highest trained discriminator (1.2 keV) plus one grid bin
    [InlineData(1.4, StartStatus.AboveTrained)]
    [InlineData(0.0, StartStatus.Trained)]
    [InlineData(-0.5, StartStatus.Trained)] // a negative offset: the whole grid is measured, start reported as 0
    public void Identify_SpectrumStartingAt_StartAgainstHighestTrainedDiscriminator(double startKeV, StartStatus status)
    {
        using var encoder = LineEncoder.Open(StageWithLowerThreshold(0.2, 1.2));
        var result = new SpectrumIdentifier(encoder).Identify(StartingAt(startKeV));
        var coverage = result.Coverage!;
        Assert.Equal(status, coverage.LowerStatus);
        Assert.Equal(1.2, coverage.TrainedMaxStartKeV);
        Assert.Equal(Math.Max(0, startKeV), coverage.LowerKeV, 9);
        Assert.Equal(status == StartStatus.AboveTrained, EnergyCoverageJson.StartWarning(coverage) is not null);
    }

    [Fact]
    public void Identify_5keVStart_WarnsButDecodesAsWithoutTheField()
    {
        var spectrum = StartingAt(5.0);
        using var plain = LineEncoder.Open(TestModels.Int8);
        using var rated = LineEncoder.Open(StageWithLowerThreshold(0.2, 1.2));

        var unrated = new SpectrumIdentifier(plain).Identify(spectrum);
        var flagged = new SpectrumIdentifier(rated).Identify(spectrum);

        Assert.Equal(StartStatus.AboveTrained, flagged.Coverage!.LowerStatus);
        var warning = EnergyCoverageJson.Warning(flagged.Coverage)!;
        Assert.Contains("spectrum starts at 5.0 keV, above the 1.2 keV", warning, StringComparison.Ordinal);
        Assert.Contains("calibration's offset", warning, StringComparison.Ordinal);
        AssertDecodedTheSame(unrated, flagged);
    }

    [Fact]
    public void Identify_CardWithoutTrainedLowerThreshold_StartReportedNoVerdict()
    {
        using var plain = LineEncoder.Open(TestModels.Int8);
        Assert.Null(plain.Card.TrainedLowerThreshold); // the test card predates the field
        var identifier = new SpectrumIdentifier(plain);

        var late = identifier.Identify(StartingAt(5.0)).Coverage!;
        Assert.Equal(StartStatus.Unrated, late.LowerStatus);
        Assert.Null(late.TrainedMaxStartKeV);
        var warning = EnergyCoverageJson.Warning(late)!;
        Assert.Contains("spectrum starts at 5.0 keV", warning, StringComparison.Ordinal);
        Assert.Contains("does not state where its training spectra started", warning, StringComparison.Ordinal);

        var usual = identifier.Identify(StartingAt(0.0)).Coverage!;
        Assert.Equal(StartStatus.Unrated, usual.LowerStatus);
        Assert.Null(EnergyCoverageJson.Warning(usual)); // every grid bin measured: nothing to say
    }

    [Fact]
    public void Warning_ShortEndAndLateStart_BothSaid()
    {
        var coverage = EnergyCoverage.Of(5.0, 15.0, 20, 1.2);
        Assert.Equal(CoverageStatus.BelowTrained, coverage.Status);
        Assert.Equal(StartStatus.AboveTrained, coverage.LowerStatus);
        var warning = EnergyCoverageJson.Warning(coverage)!;
        Assert.Contains("spectrum ends at 15.0 keV", warning, StringComparison.Ordinal);
        Assert.Contains("; spectrum starts at 5.0 keV", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(35.0, 65.0, 20.0, 1.2)] // a +35 keV offset: every channel above the grid
    [InlineData(30.0, 60.0, null, null)] // starts exactly at the grid's end; card states neither range
    [InlineData(-45.0, -15.0, 20.0, 1.2)] // a -45 keV offset: every channel below the grid
    [InlineData(-30.0, 0.0, null, 1.2)]
    public void Of_ChannelsWhollyOutsideTheGrid_NoneNotFull(double first, double last, double? trainedMin, double? trainedMaxStart)
    {
        var coverage = EnergyCoverage.Of(first, last, trainedMin, trainedMaxStart);

        Assert.Equal(CoverageStatus.None, coverage.Status);
        var warning = EnergyCoverageJson.Warning(coverage)!;
        Assert.Contains("wholly outside the model's 0-30 keV grid", warning, StringComparison.Ordinal);
        Assert.Contains("check the energy calibration", warning, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(warning, "spectrum (starts|ends)")); // the start and end warnings would only repeat it
        Assert.Equal("none", EnergyCoverageJson.StatusName(coverage.Status));
    }

    [Fact]
    public void Identify_35keVOffset_NoneReportedDecodedAsWithoutTheField()
    {
        var spectrum = StartingAt(35.0);
        using var plain = LineEncoder.Open(TestModels.Int8);
        using var rated = LineEncoder.Open(StageWithLowerThreshold(0.2, 1.2));

        var flagged = new SpectrumIdentifier(rated).Identify(spectrum);

        Assert.Equal(CoverageStatus.None, flagged.Coverage!.Status);
        Assert.Contains("starts at or above 30 keV", EnergyCoverageJson.Warning(flagged.Coverage), StringComparison.Ordinal);
        AssertDecodedTheSame(new SpectrumIdentifier(plain).Identify(spectrum), flagged);
    }

    [Fact]
    public void Of_OneChannelInsideTheGrid_NotNone()
    {
        Assert.Equal(CoverageStatus.BelowTrained, EnergyCoverage.Of(-29.95, 0.05, 20, 1.2).Status);
        Assert.Equal(CoverageStatus.Full, EnergyCoverage.Of(29.95, 59.95, 20, 1.2).Status);
    }

    [Theory]
    [InlineData("{\"min\": 1.2, \"max\": 0.2}")]
    [InlineData("{\"min\": -0.1, \"max\": 1.2}")]
    [InlineData("{\"min\": 0.2, \"max\": 10}")]
    [InlineData("{\"min\": 0.2}")]
    [InlineData("[0.2, 1.2]")]
    public void Open_TrainedLowerThresholdInvalid_RefusesNamingIt(string value)
    {
        var model = TestModels.StageInt8(_dir, card => card["trained_lower_threshold_kev"] = JsonNode.Parse(value));
        var e = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));
        Assert.Contains("trained_lower_threshold_kev", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedCard_StatesTheRandomizedProfileDiscriminators()
    {
        var root = RepositoryRoot.Require();
        var card = ModelCard.Load(Path.Combine(root, "models", "xrf-line-encoder.card.json"));
        // The profile the card says it was trained on, read independently of training/xrftrain/card.py.
        using var profile = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "src", "XrfEdge.Synthesis", "Profiles", "randomized.json")));
        var ranges = profile.RootElement.GetProperty("detectors").EnumerateArray()
            .Select(d => d.GetProperty("lower_threshold_kev"))
            .Select(r => (Min: r.GetProperty("min").GetDouble(), Max: r.GetProperty("max").GetDouble()))
            .ToList();
        Assert.Equal(new TrainedLowerThreshold(ranges.Min(r => r.Min), ranges.Max(r => r.Max)), card.TrainedLowerThreshold);
    }

    [Fact]
    public void EnergyCoverageJson_Write_StartFields()
    {
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            EnergyCoverageJson.Write(writer, EnergyCoverage.Of(2.04999, 30, 20, 1.2));
            writer.WriteEndObject();
        }

        var json = JsonNode.Parse(stream.ToArray())!["coverage"]!;
        Assert.Equal(2.05, json["lower_kev"]!.GetValue<double>());
        Assert.Equal(1.2, json["trained_max_start_kev"]!.GetValue<double>());
        Assert.Equal("above_trained", json["lower_status"]!.GetValue<string>());
        Assert.Equal("full", json["status"]!.GetValue<string>());
    }

    /// <summary>Coverage is a report only: same model input, same probabilities, same elements and lines.</summary>
    private static void AssertDecodedTheSame(Identification expected, Identification actual)
    {
        Assert.Equal(expected.LineProbabilities, actual.LineProbabilities);
        Assert.Equal(expected.Elements.Select(e => (e.Symbol, e.Probability)), actual.Elements.Select(e => (e.Symbol, e.Probability)));
        Assert.Equal(expected.Lines.Select(l => (l.Line.Name, l.Probability)), actual.Lines.Select(l => (l.Line.Name, l.Probability)));
    }

    /// <summary>The simulated spectrum with its calibration moved so that its first channel starts at <paramref name="startKeV"/> (300 channels of 0.1 keV).</summary>
    private static RawSpectrum StartingAt(double startKeV)
    {
        var raw = TestModels.SimulatedRaw(3);
        return raw with { Calibration = new EnergyCalibration(startKeV + 0.05, 0.1) };
    }

    private string StageWithLowerThreshold(double min, double max) =>
        TestModels.StageInt8(_dir, card => card["trained_lower_threshold_kev"] = new JsonObject { ["min"] = min, ["max"] = max });

    /// <summary>The simulated 0–30 keV spectrum (0.1 keV channels centred at 0.05 + 0.1c) cut to its first <paramref name="channels"/>: it ends at channels/10 keV.</summary>
    private static RawSpectrum Cut(int channels)
    {
        var raw = TestModels.SimulatedRaw(3);
        return raw with { Counts = raw.Counts[..channels] };
    }

    private string StageWithFullScale(double min, double max) =>
        TestModels.StageInt8(_dir, card => card["trained_full_scale_kev"] = new JsonObject { ["min"] = min, ["max"] = max });
}

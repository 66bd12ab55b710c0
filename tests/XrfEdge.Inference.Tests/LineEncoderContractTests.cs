using System.Security.Cryptography;
using System.Text.Json.Nodes;
using XrfEdge.Inference.Model;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Inference.Tests;

/// <summary>Every way a model file or card can break the contract gets its own clear refusal.</summary>
public sealed class LineEncoderContractTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-contract-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Open_TestModel_ExposesIdentityFromCard()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);

        Assert.Equal("xrf-test-encoder", encoder.Identity.Name);
        Assert.Equal("int8", encoder.Identity.Precision);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(TestModels.Int8))), encoder.Identity.Sha256);
        Assert.True(encoder.HasElementHead);
    }

    [Fact]
    public void Open_MissingFile_SaysItDoesNotExist()
    {
        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(Path.Combine(_dir, "nope.int8.onnx")));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingCard_NamesTheCardPath()
    {
        File.Copy(TestModels.Int8, Path.Combine(_dir, "lonely.int8.onnx"));

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(Path.Combine(_dir, "lonely.int8.onnx")));

        Assert.Contains("lonely.card.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WrongCatalogueHash_RefusesNamingBothHashes()
    {
        var model = Stage(card => card["catalog_hash"] = new string('0', 64));

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("catalogue hash " + new string('0', 64), error.Message, StringComparison.Ordinal);
        Assert.Contains(LineCatalog.Default.Hash, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_OtherPreprocessing_Refuses()
    {
        var model = Stage(card => card["preprocessing"] = "log-counts-v0");

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("preprocessing 'log-counts-v0'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_OtherInputGrid_Refuses()
    {
        var model = Stage(card => card["input"]!["bin_width_kev"] = 0.05);

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("input grid", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(300.5)] // truncated to 300 by an (int) cast, it passed the grid check
    [InlineData(3e9)] // beyond int: the cast gave int.MaxValue, reported as "2147483647 bins"
    public void Open_InputBinsNotAnInteger_RefusesNamingTheField(double bins)
    {
        var model = Stage(card => card["input"]!["bins"] = bins);

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("'input.bins'", error.Message, StringComparison.Ordinal);
        Assert.Contains("m.card.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_FileChangedAfterCard_RefusesOnSha256()
    {
        var model = Stage(_ => { });
        var bytes = File.ReadAllBytes(model);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(model, bytes);

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ThresholdCountWrong_Refuses()
    {
        var model = Stage(card => card["thresholds"]!["lines"] = new JsonArray(0.5, 0.5));

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("thresholds.lines has 2 values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CardNotJson_SaysSo()
    {
        var model = Stage(_ => { });
        File.WriteAllText(Path.Combine(_dir, "m.card.json"), "{ not json");

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_TruncatedModel_SaysNotReadable()
    {
        var bytes = File.ReadAllBytes(TestModels.Int8);
        var model = StageBytes(bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("not a readable ONNX model", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RandomBytes_Refuses()
    {
        var bytes = new byte[4096];
        new Random(17).NextBytes(bytes);
        var model = StageBytes(bytes);

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("m.int8.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WrongInputWidth_RefusesWithTheShape()
    {
        var model = StageBytes(File.ReadAllBytes(TestModels.Bad("wrong-input-width.onnx")));

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("[N,299]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[N,300]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ExternalData_RefusesBeforeOrtResolvesIt()
    {
        File.Copy(TestModels.Bad("external-data.weights"), Path.Combine(_dir, "external-data.weights"));
        var model = StageBytes(File.ReadAllBytes(TestModels.Bad("external-data.onnx")));

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("external data", error.Message, StringComparison.Ordinal);
        Assert.Contains("w1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CardNamesMissingOutput_Refuses()
    {
        var model = Stage(card => card["outputs"]!["lines"] = "probs");

        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));

        Assert.Contains("no output named 'probs'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CardWithCountRange_ExposesIt()
    {
        var model = Stage(card => card["count_range"] = new JsonObject { ["low_total"] = 1217.0, ["high_total"] = 2.76e7, ["definition"] = "test" });
        using var encoder = LineEncoder.Open(model);
        Assert.Equal(new CountRange(1217, 2.76e7), encoder.Card.CountRange);
    }

    [Fact]
    public void Open_CardWithoutCountRange_HasNone()
    {
        using var encoder = LineEncoder.Open(Stage(_ => { }));
        Assert.Null(encoder.Card.CountRange);
    }

    [Theory]
    [InlineData(1e6, 1e3)]
    [InlineData(0.0, 1e3)]
    public void Open_CountRangeInverted_RefusesNamingIt(double low, double high)
    {
        var model = Stage(card => card["count_range"] = new JsonObject { ["low_total"] = low, ["high_total"] = high });
        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));
        Assert.Contains("count_range", error.Message, StringComparison.Ordinal);
        Assert.Contains("m.card.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CountRangeMissingHigh_RefusesNamingTheField()
    {
        var model = Stage(card => card["count_range"] = new JsonObject { ["low_total"] = 10.0 });
        var error = Assert.Throws<ModelContractException>(() => LineEncoder.Open(model));
        Assert.Contains("count_range.high_total", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CardPathFor_PrecisionSuffix_IsStripped() =>
        Assert.Equal(Path.Combine("/m", "xrf-line-encoder.card.json"), LineEncoder.CardPathFor("/m/xrf-line-encoder.fp32.onnx"));

    /// <summary>Copies the int8 test model as m.int8.onnx with an edited copy of its card.</summary>
    private string Stage(Action<JsonNode> edit) => TestModels.StageInt8(_dir, edit);

    /// <summary>Writes <paramref name="bytes"/> as m.int8.onnx with a card whose SHA-256 matches them, so the bytes themselves are what is tested.</summary>
    private string StageBytes(byte[] bytes)
    {
        var model = Stage(_ => { });
        File.WriteAllBytes(model, bytes);
        var card = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "m.card.json")))!;
        card["files"]!["int8"]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        File.WriteAllText(Path.Combine(_dir, "m.card.json"), card.ToJsonString());
        return model;
    }
}

namespace XrfEdge.Synthesis.Tests;

public sealed class ProfileTests
{
    [Fact]
    public void Load_EveryShippedName_ValidAndNamed()
    {
        foreach (var name in GeneratorProfiles.Names)
        {
            var p = GeneratorProfiles.Load(name);
            Assert.Equal(name, p.Name);
            Assert.Empty(p.Validate());
        }
    }

    [Fact]
    public void Load_UnknownName_ListsKnownProfiles()
    {
        var ex = Assert.Throws<ArgumentException>(() => GeneratorProfiles.Load("tabletop"));
        Assert.Contains("randomized", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RoundTrip_SameProfile()
    {
        var p = GeneratorProfiles.Load("randomized");
        var again = GeneratorProfiles.Parse(GeneratorProfiles.ToJson(p), "round-trip");
        Assert.Equal(GeneratorProfiles.ToJson(p), GeneratorProfiles.ToJson(again));
    }

    [Fact]
    public void Parse_UnknownKey_ErrorNamesKeyAndSource()
    {
        var json = GeneratorProfiles.ToJson(GeneratorProfiles.Load("benchtop")).Replace("\"name\":", "\"nmae\": \"x\", \"name\":", StringComparison.Ordinal);
        var ex = Assert.Throws<ArgumentException>(() => GeneratorProfiles.Parse(json, "my-profile.json"));
        Assert.Contains("my-profile.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nmae", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadValues_EveryProblemReported()
    {
        var p = GeneratorProfiles.Load("benchtop");
        var bad = p with
        {
            Anodes = [new Profiles.WeightedValue("Fe")],
            Detectors = [p.Detectors[0] with { FwhmMnKaElectronvolts = new Profiles.ValueRange(100, 120) }],
        };
        var ex = Assert.Throws<ArgumentException>(() => GeneratorProfiles.Parse(GeneratorProfiles.ToJson(bad), "bad.json"));
        Assert.Contains("'Fe' is not one of", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Fano limit", ex.Message, StringComparison.Ordinal);
    }
}

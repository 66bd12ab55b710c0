using XrfEdge.Devices.Amptek;

namespace XrfEdge.Devices.Tests.Amptek;

public sealed class Dp5TextConfigurationTests
{
    private static KeyValuePair<string, string> Kv(string k, string v) => new(k, v);

    [Fact]
    public void BuildPayloads_MixedOrder_SendsInGuideOrderWithRescFirst()
    {
        var payloads = Dp5TextConfiguration.BuildPayloads(
            [Kv("SOFF", "0"), Kv("MCAC", "2048"), Kv("gain", "20.0"), Kv("TPEA", "1.0US"), Kv("CLCK", "AUTO"), Kv("PRET", "10.0")],
            allowHazardous: false);
        var text = Assert.Single(payloads);

        // Guide rev A7 §5 ORDER: RESC 1, CLCK 2, TPEA 3, GAIN 4; SOFF after MCAC.
        Assert.Equal("RESC=Y;CLCK=AUTO;TPEA=1.0US;GAIN=20.0;PRET=10.0;MCAC=2048;SOFF=0;", text);
    }

    [Fact]
    public void BuildPayloads_LongConfiguration_SplitsAtSemicolonsUnder512BytesAndRescOnlyFirst()
    {
        var settings = Enumerable.Range(0, 80).Select(i => Kv("THSL", (i % 10).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".00%")).ToList();
        var payloads = Dp5TextConfiguration.BuildPayloads(settings, allowHazardous: false);
        Assert.True(payloads.Count > 1);
        Assert.All(payloads, p => Assert.InRange(p.Length, 1, 512));
        Assert.All(payloads, p => Assert.EndsWith(";", p, StringComparison.Ordinal));
        Assert.StartsWith("RESC=Y;", payloads[0], StringComparison.Ordinal);
        Assert.All(payloads.Skip(1), p => Assert.DoesNotContain("RESC", p, StringComparison.Ordinal));
        Assert.Equal(80, payloads.Sum(p => p.Split(';', StringSplitOptions.RemoveEmptyEntries).Count(c => c.StartsWith("THSL", StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData("HVSE")]
    [InlineData("TECS")]
    public void BuildPayloads_HazardousWithoutPermission_Refused(string command)
    {
        var e = Assert.Throws<ArgumentException>(() => Dp5TextConfiguration.BuildPayloads([Kv(command, "220")], allowHazardous: false));
        Assert.Contains(command, e.Message, StringComparison.Ordinal);
        Assert.Contains("AllowHighVoltageCommands", e.Message, StringComparison.Ordinal);
        Assert.Contains(command + "=220;", Dp5TextConfiguration.BuildPayloads([Kv(command, "220")], allowHazardous: true)[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MCAC", "")]
    [InlineData("MCAC", "12345678901")]
    [InlineData("MCAC", "1 024")]
    [InlineData("MCA", "1024")]
    [InlineData("MCAC", "10;GAIN")]
    public void BuildPayloads_MalformedCommand_Refused(string name, string value) =>
        Assert.Throws<ArgumentException>(() => Dp5TextConfiguration.BuildPayloads([Kv(name, value)], allowHazardous: false));

    [Fact]
    public void ParseReadBack_GuideExample_ReturnsValuesAndUnknownMarker()
    {
        var values = Dp5TextConfiguration.ParseReadBack("MCAC=1024;GAIN=7.005;TPEA=25.600;CMDA=??;");
        Assert.Equal("1024", values["MCAC"]);
        Assert.Equal("7.005", values["GAIN"]);
        Assert.Equal("25.600", values["TPEA"]);
        Assert.Equal("??", values["CMDA"]);
        Assert.Throws<FormatException>(() => Dp5TextConfiguration.ParseReadBack("MCAC1024;"));
    }

    [Fact]
    public void BuildReadBackPayloads_ManyNames_BatchesOf32()
    {
        var names = Enumerable.Range(0, 70).Select(i => "C" + i.ToString("000", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var payloads = Dp5TextConfiguration.BuildReadBackPayloads(names);
        Assert.Equal([32, 32, 6], payloads.Select(p => p.Count(c => c == ';')));
    }
}

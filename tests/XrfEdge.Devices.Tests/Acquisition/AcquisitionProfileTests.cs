using XrfEdge.Devices.Acquisition;

namespace XrfEdge.Devices.Tests.Acquisition;

public sealed class AcquisitionProfileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-profile-").FullName;

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XrfEdge.sln")))
            {
                return Path.Combine(dir.FullName, relative);
            }
        }

        throw new InvalidOperationException("repository root (XrfEdge.sln) not found");
    }

    private string Write(string json)
    {
        var path = Path.Combine(_dir, "p.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [InlineData("firmware-config/simulator.json", "/tmp/xrfedge-ttyDP5")]
    [InlineData("firmware-config/pi-dp5-uart.json", "/dev/serial0")]
    public void Load_ShippedProfiles_AreValidWith2048Channels(string file, string device)
    {
        var profile = AcquisitionProfile.Load(RepoFile(file));
        Assert.Equal("dp5", profile.Protocol);
        Assert.Equal(device, profile.Device);
        Assert.Equal(2048, profile.ChannelCount);
        Assert.False(profile.AllowHighVoltageCommands);
        Assert.DoesNotContain(profile.Configuration, c => c.Key is "HVSE" or "TECS");
        Assert.Null(profile.Validate());
    }

    [Fact]
    public void Load_ShippedSpiProfile_IsValidWith1024Channels()
    {
        var profile = AcquisitionProfile.Load(RepoFile("firmware-config/jetson-spi.json"));
        Assert.Equal("spi", profile.Protocol);
        Assert.Equal(1024, profile.ChannelCount);
        Assert.Null(profile.Validate());
    }

    [Fact]
    public void Load_ServiceSectionsPresent_IgnoredByAcquisition()
    {
        var profile = AcquisitionProfile.Load(Write("""
            {"Mqtt": {"Anything": 1},
             "Acquisition": {"Configuration": {"MCAC": "1024"}, "PresetSeconds": 5},
             "Calibration": {"OffsetKeV": -0.01, "GainKeVPerChannel": 0.03}}
            """));
        Assert.Equal(TimeSpan.FromSeconds(5), profile.PresetTime);
        Assert.Equal(1024, profile.ChannelCount);
        Assert.Equal(-0.01, profile.Calibration.OffsetKeV);
        Assert.Equal(0.03, profile.Calibration.GainKeVPerChannel);
    }

    // 0.03 keV/channel × 1024 channels (the DP5 default MCAC) = 30.7 keV, a 0–30 keV range. A profile must state MCAC,
    // so the cases that test a later rule carry "MCAC": "1024".
    [Theory]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1024"}}}""", "no top-level \"Calibration\"")]
    [InlineData("""{"Acquisition": {}, "Calibration": {"OffsetKeV": 0}}""", "Calibration: GainKeVPerChannel is required")]
    [InlineData("""{"Acquisition": {}, "Calibration": {"GainKeVPerChannel": "fast"}}""", "Calibration: GainKeVPerChannel must be a number")]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1000"}}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "MCAC")]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1024", "HVSE": "-130"}}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "AllowHighVoltageCommands")]
    [InlineData("""{"Acquisition": {"BaudRate": 9600}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "BaudRate")]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1024"}}, "Calibration": {"GainKeVPerChannel": -1}}""", "gain must be positive")]
    [InlineData("""{"Acquisition": {"PresetSeconds": "ten"}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "Acquisition: PresetSeconds must be a number")]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1024"}, "PresetSeconds": 0}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "PresetSeconds must be at least 0.1 (the dp5 MCA's preset resolution)")]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1024"}, "PresetSeconds": 0.05}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "PresetSeconds must be at least 0.1")]
    [InlineData("""{"Acquisition": {"Configuration": {"GAIN": "20.0"}}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "Configuration.MCAC is required")]
    [InlineData("""{"Acquisition": {"Protocol": "spi"}, "Calibration": {"GainKeVPerChannel": 0.03}}""", "Configuration.MCAC is required")]
    [InlineData("""{"Nothing": {}}""", "no \"Acquisition\"")]
    [InlineData("""{"Acquisition": """, "not valid JSON")]
    public void Load_BadProfile_ErrorNamesFileAndKey(string json, string expected)
    {
        var path = Write(json);
        var e = Assert.Throws<InvalidDataException>(() => AcquisitionProfile.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Acquisition": {"PresetTimeSeconds": 5}, "Calibration": {"GainKeVPerChannel": 0.03}}""")]
    [InlineData("""{"Acquisition": {"Calibration": {"GainKeVPerChannel": 0.03}}, "Calibration": {"GainKeVPerChannel": 0.03}}""")]
    public void Load_FormerNestedCopy_IsRefusedNamingTheSingleContract(string json)
    {
        var e = Assert.Throws<InvalidDataException>(() => AcquisitionProfile.Load(Write(json)));
        Assert.Contains("use Acquisition:PresetSeconds and the top-level \"Calibration\" section", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnknownName_ListsWhereItLooked()
    {
        var e = Assert.Throws<FileNotFoundException>(() => AcquisitionProfile.Resolve("no-such-profile-xyz"));
        Assert.Contains("firmware-config/no-such-profile-xyz.json", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

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
    public void Load_ServiceSectionPresent_IgnoredByAcquisition()
    {
        var profile = AcquisitionProfile.Load(Write("""
            {"Service": {"Anything": 1},
             "Acquisition": {"Configuration": {"MCAC": "1024"}, "Calibration": {"GainKeVPerChannel": 0.03}, "PresetTimeSeconds": 5}}
            """));
        Assert.Equal(TimeSpan.FromSeconds(5), profile.PresetTime);
        Assert.Equal(1024, profile.ChannelCount);
    }

    [Theory]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1024"}}}""", "Calibration")]
    [InlineData("""{"Acquisition": {"Configuration": {"MCAC": "1000"}, "Calibration": {"GainKeVPerChannel": 0.03}}}""", "MCAC")]
    [InlineData("""{"Acquisition": {"Configuration": {"HVSE": "-130"}, "Calibration": {"GainKeVPerChannel": 0.03}}}""", "AllowHighVoltageCommands")]
    [InlineData("""{"Acquisition": {"BaudRate": 9600, "Calibration": {"GainKeVPerChannel": 0.03}}}""", "BaudRate")]
    [InlineData("""{"Acquisition": {"Calibration": {"GainKeVPerChannel": -1}}}""", "gain must be positive")]
    [InlineData("""{"Acquisition": {"PresetTimeSeconds": "ten", "Calibration": {"GainKeVPerChannel": 0.03}}}""", "PresetTimeSeconds")]
    [InlineData("""{"Nothing": {}}""", "no \"Acquisition\"")]
    [InlineData("""{"Acquisition": """, "not valid JSON")]
    public void Load_BadProfile_ErrorNamesFileAndKey(string json, string expected)
    {
        var path = Write(json);
        var e = Assert.Throws<InvalidDataException>(() => AcquisitionProfile.Load(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnknownName_ListsWhereItLooked()
    {
        var e = Assert.Throws<FileNotFoundException>(() => AcquisitionProfile.Resolve("no-such-profile-xyz"));
        Assert.Contains("firmware-config/no-such-profile-xyz.json", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

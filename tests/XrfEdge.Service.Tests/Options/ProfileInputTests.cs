using XrfEdge.Service.Cli;
using XrfEdge.Service.Options;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Options;

/// <summary>
/// What an integrator meets when a profile, an <c>XRFEDGE_</c> variable or a <c>--set</c> is wrong: exit 78 (which the
/// unit does not restart), one line per problem that says where the value came from, and no stack trace.
/// </summary>
public sealed class ProfileInputTests : IDisposable
{
    private readonly TestProfiles _profiles = new();

    private static readonly Dictionary<string, string?> Environment = new() { ["STATE_DIRECTORY"] = "/var/lib/xrfedge" };

    public void Dispose() => _profiles.Dispose();

    private static string PiProfile => RepositoryRoot.Combine("firmware-config", "pi-dp5-uart.json");

    [Fact]
    public void OnnxRuntimePathVariable_AsDocumentedForJetPack_IsNotReadAsAProfileKey()
    {
        // docs/inference.md tells a JetPack site to set XRFEDGE_ONNXRUNTIME_PATH; read as a key it was
        // "ONNXRUNTIME_PATH: unknown section", exit 78, and the unit never started.
        var environment = new Dictionary<string, string?>(Environment) { [XrfEdge.Inference.Native.OnnxRuntime.LibraryPathVariable] = "/usr/lib/aarch64-linux-gnu/libonnxruntime.so.1.16.0" };

        var settings = ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], environment);

        Assert.Null(settings.Model.OnnxRuntimeLibraryPath); // the variable is the library's own fallback, not a key
    }

    [Fact]
    public void InstallPrebuiltVariable_LeftInTheShell_IsNotReadAsAProfileKey()
    {
        // scripts/install.sh's XRFEDGE_PREBUILT=DIR, exported in the integrator's shell, then `./xrfedge run`.
        var environment = new Dictionary<string, string?>(Environment) { ["XRFEDGE_PREBUILT"] = "/tmp/publish" };

        ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], environment);
    }

    [Theory]
    [InlineData("ReplyTimeoutMilliseconds")]
    [InlineData("ReconnectDelayMilliseconds")]
    [InlineData("PollIntervalMilliseconds")]
    public void MillisecondKey_BeyondWhatATimeSpanHolds_IsAProfileErrorNotACrash(string key)
    {
        // 1e17 ms is beyond TimeSpan.MaxValue (about 9.2e14 ms): TimeSpan.FromMilliseconds threw OverflowException out of
        // the validator, `xrfedge run` printed a stack trace and exited 1, which Restart=on-failure restarted.
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel, $"Acquisition:{key}=1e17"], Environment));

        Assert.Contains(error.Problems, p => p.StartsWith($"Acquisition:{key} = 1E+17: must be", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_MillisecondKeyBeyondATimeSpan_Exits78WithOneLineNoStackTrace()
    {
        using var error = new StringWriter();

        int rc = await RunCommand.RunAsync(RepositoryRoot.Combine("firmware-config", "simulator.json"), ["Model:Path=" + RepositoryRoot.TestModel, "Acquisition:ReplyTimeoutMilliseconds=1e300"], new FakeComponents(), error);

        Assert.Equal(RunCommand.InvalidConfiguration, rc);
        Assert.Contains("Acquisition:ReplyTimeoutMilliseconds = 1E+300", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ReplyTimeoutMilliseconds")]
    [InlineData("PresetSeconds")]
    public async Task Acquire_ProfileDurationBeyondATimeSpan_Exits2NamingTheKeyNoStackTrace(string key)
    {
        // `xrfedge acquire --config` reads the same Acquisition section through its own loader, which had the same overflow.
        var profile = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(RepositoryRoot.Combine("firmware-config", "simulator.json")))!;
        profile["Acquisition"]![key] = 1e300;
        string path = Path.Combine(_profiles.Folder, "huge.json");
        File.WriteAllText(path, profile.ToJsonString());
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        int rc = await AcquireCommand.RunAsync("/dev/null", null, path, null, 1, null, json: false, stdout, stderr, CancellationToken.None);

        Assert.Equal(2, rc); // docs/acquisition.md: "2 usage or profile error"
        Assert.Contains(key + " = 1E+300 is too long", stderr.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ValueFromAnEnvironmentVariable_MessageNamesTheVariable()
    {
        // The profile says 1883; an integrator reading "Mqtt:Port = 70000" would search the file in vain.
        // Unknown keys are reported before values are checked, hence two loads.
        var misspelt = new Dictionary<string, string?>(Environment) { ["XRFEDGE_Mqtt__Hots"] = "broker", ["XRFEDGE_Mqqt__Host"] = "broker" };
        var outOfRange = new Dictionary<string, string?>(Environment) { ["XRFEDGE_Mqtt__Port"] = "70000" };

        var unknown = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], misspelt));
        var range = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], outOfRange));

        Assert.Matches(@"Mqtt:Hots: unknown key \(.*\) \(environment variable XRFEDGE_Mqtt__Hots\)", unknown.Message);
        Assert.Matches(@"Mqqt: unknown section \(.*\) \(environment variable XRFEDGE_Mqqt__Host\)", unknown.Message);
        Assert.Contains("Mqtt:Port = 70000: must be between 1 and 65535 (environment variable XRFEDGE_Mqtt__Port)", range.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValueFromSet_MessageNamesTheSetAndTheHeaderNamesTheProfile()
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel, "Health:StallSeconds=0"], Environment));

        Assert.StartsWith($"invalid configuration (profile {PiProfile}):", error.Message, StringComparison.Ordinal);
        Assert.Contains("Health:StallSeconds = 0: must be between 1 and 600 (--set Health:StallSeconds=0)", error.Message, StringComparison.Ordinal);
        Assert.Equal("Health:StallSeconds = 0: must be between 1 and 600", Assert.Single(error.Problems)); // the sentence itself is unchanged
    }

    [Fact]
    public void ValueFromTheProfileFile_NotAttributedToAnOverride()
    {
        string path = Path.Combine(_profiles.Folder, "p.json");
        File.WriteAllText(path, """{ "Mqtt": { "Port": 0 } }""");

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, [], Environment));

        Assert.Contains($"invalid configuration (profile {path}):", error.Message, StringComparison.Ordinal);
        Assert.Contains("Mqtt:Port = 0: must be between 1 and 65535" + System.Environment.NewLine, error.Message + System.Environment.NewLine, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJson_NamesTheLine()
    {
        // Microsoft's JSON provider wraps the parser's error twice; the outer text was "Could not parse the JSON file."
        // with no position, in a 70-line profile.
        string path = Path.Combine(_profiles.Folder, "broken.json");
        File.WriteAllText(path, "{\n  \"Mqtt\": {\n    \"Port\": 1883,,\n  }\n}\n");

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, [], Environment));

        string problem = Assert.Single(error.Problems);
        Assert.StartsWith($"profile {path}: not valid JSON", problem, StringComparison.Ordinal);
        Assert.Contains("line 3", problem, StringComparison.Ordinal); // the doubled comma is on the third line
    }

    [Fact]
    public async Task Run_ProfileTheServiceUserCannotRead_Exits78NamingTheFileNoStackTrace()
    {
        // A site profile installed 0600 root (umask 077, `install -m 0600`) that the unit's User=xrfedge cannot read:
        // File.Exists is true, reading throws UnauthorizedAccessException, which the loader did not catch: a stack trace
        // and exit 1, restarted by Restart=on-failure. Root reads any file, so as root the child runs as nobody.
        if (!OperatingSystem.IsLinux())
        {
            Assert.Fail("the service and this test are Linux-only");
            return;
        }

        File.SetUnixFileMode(_profiles.Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        string path = Path.Combine(_profiles.Folder, "site.json");
        File.Copy(RepositoryRoot.Combine("firmware-config", "simulator.json"), path);
        File.SetUnixFileMode(path, UnixFileMode.None);
        bool root = System.Environment.UserName == "root";
        var start = new System.Diagnostics.ProcessStartInfo(root ? "setpriv" : "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in root ? ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet"] : Array.Empty<string>())
        {
            start.ArgumentList.Add(a);
        }

        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "xrfedge.dll"), "run", "--config", path })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["HOME"] = _profiles.Folder;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == RunCommand.InvalidConfiguration, $"exit {process.ExitCode}\n{stderr}{await stdout}");
        Assert.Contains($"profile {path}: cannot be read", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfilePathIsADirectory_SaysSo()
    {
        // `--config /opt/xrfedge/firmware-config` (the folder, not a file) was reported as "file not found".
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(_profiles.Folder, [], Environment));

        Assert.Equal($"profile {_profiles.Folder}: is a directory; name a profile file in it, for example {Path.Combine(_profiles.Folder, "pi-dp5-uart.json")}", Assert.Single(error.Problems));
    }

    [Theory]
    [InlineData("Decoder:IgnoreElements=Rh", "Decoder:IgnoreElements:0=Rh", "XRFEDGE_Decoder__IgnoreElements__0=Rh")]
    [InlineData("Acquisition:Configuration=GAIN", "Acquisition:Configuration:NAME=value", "XRFEDGE_Acquisition__Configuration__NAME=value")]
    public void ListOrObjectKeySetAsOneValue_SaysHowToOverrideItsItems(string set, string setForm, string environmentForm)
    {
        // firmware-config/README.md: "Every key can be overridden by --set". For a list or an object the message was
        // "must be a JSON array" / "must be an object of NAME: value pairs", which a --set cannot be.
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel, set], Environment));

        string problem = Assert.Single(error.Problems);
        Assert.Contains(setForm, problem, StringComparison.Ordinal);
        Assert.Contains(environmentForm, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mqtt://broker.example.internal")]
    [InlineData("broker.example.internal:1883")]
    [InlineData("tcp://10.0.0.5:8883")]
    [InlineData("broker example")]
    // An IPv6 literal in URL brackets: Uri.CheckHostName calls it IPv6, libmosquitto's getaddrinfo "Lookup error" (code
    // 15) on every connect, as for the others; passed the check until 2026-11-24.
    [InlineData("[::1]")]
    [InlineData("[fd00::5]")]
    public void MqttHost_UrlOrHostWithPort_IsRefusedNamingTheKey(string host)
    {
        // Accepted before, as a name for libmosquitto to resolve, which cannot resolve a URL or a name with a port: the
        // instrument would stay offline with results piling up in the outbox, while the profile had passed.
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel, "Mqtt:Host=" + host], Environment));

        Assert.StartsWith($"Mqtt:Host = '{host}': must be a host name or an IP address only", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mqtt.example.internal")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("fd00::5")]
    [InlineData("broker")]
    public void MqttHost_NameOrAddress_IsAccepted(string host)
    {
        Assert.Equal(host, ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel, "Mqtt:Host=" + host], Environment).Mqtt.Host);
    }

    [Fact]
    public void MqttPasswordWithoutUsername_IsRefusedNamingBothKeys()
    {
        // MosquittoTransport hands credentials to libmosquitto only with a user name, so a password alone was dropped
        // without a word and the broker answered "not authorised" on every attempt. install.sh's xrfedge.env template
        // offered #XRFEDGE_Mqtt__Password= with no user name line beside it.
        var environment = new Dictionary<string, string?>(Environment) { ["XRFEDGE_Mqtt__Password"] = "secret" };

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], environment));

        Assert.StartsWith("Mqtt:Password is set but Mqtt:Username is not", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void InstallEnvironmentTemplate_OffersTheUserNameWithThePassword()
    {
        string install = File.ReadAllText(RepositoryRoot.Combine("scripts", "install.sh"));

        Assert.Contains("#XRFEDGE_Mqtt__Username=", install, StringComparison.Ordinal);
    }
}

using XrfEdge.Service.Options;

namespace XrfEdge.Service.Tests.Options;

public sealed class ProfileLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-profile-").FullName;

    private static readonly Dictionary<string, string?> Environment = new() { ["STATE_DIRECTORY"] = "/var/lib/xrfedge" };

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("simulator.json")]
    [InlineData("pi-dp5-uart.json")]
    [InlineData("jetson-spi.json")]
    public void ShippedProfile_WithModelPresent_IsValid(string file)
    {
        var settings = ProfileLoader.Load(RepositoryRoot.Combine("firmware-config", file), ["Model:Path=" + RepositoryRoot.TestModel], Environment);

        Assert.False(string.IsNullOrEmpty(settings.Mqtt.DeviceId));
        Assert.True(System.IO.Path.IsPathRooted(settings.Outbox.Path));
    }

    /// <summary>
    /// The variables an installed instrument starts with: the unit's <c>Environment=</c> lines, systemd's
    /// <c>$STATE_DIRECTORY</c>, and the active lines of the <c>/etc/xrfedge/xrfedge.env</c> that scripts/install.sh writes.
    /// </summary>
    private static Dictionary<string, string?> InstalledEnvironment()
    {
        var variables = new Dictionary<string, string?>(Environment);
        var unit = File.ReadAllLines(RepositoryRoot.Combine("systemd", "xrfedge.service"))
            .Where(l => l.StartsWith("Environment=", StringComparison.Ordinal))
            .Select(l => l["Environment=".Length..]);
        var install = File.ReadAllText(RepositoryRoot.Combine("scripts", "install.sh"));
        var envFile = install[(install.IndexOf("<<'ENV'", StringComparison.Ordinal) + 7)..install.IndexOf("\nENV\n", StringComparison.Ordinal)]
            .Split('\n')
            .Where(l => l.StartsWith("XRFEDGE_", StringComparison.Ordinal));
        foreach (var line in unit.Concat(envFile))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            variables[line[..eq]] = line[(eq + 1)..];
        }

        return variables;
    }

    [Fact]
    public void InstalledUnit_ItsOwnEnvironment_LoadsTheProfileItNames()
    {
        var environment = InstalledEnvironment();
        Assert.Equal("pi-dp5-uart", environment["XRFEDGE_PROFILE"]);

        // ExecStart= is `xrfedge run --config …/firmware-config/${XRFEDGE_PROFILE}.json`; XRFEDGE_PROFILE itself is not a key.
        var settings = ProfileLoader.Load(
            RepositoryRoot.Combine("firmware-config", environment["XRFEDGE_PROFILE"] + ".json"),
            ["Model:Path=" + RepositoryRoot.TestModel],
            environment);

        Assert.Equal("/var/lib/xrfedge/outbox.db", settings.Outbox.Path);
    }

    [Fact]
    public void UnknownPrefixedVariable_StillAnError()
    {
        var environment = new Dictionary<string, string?>(Environment) { ["XRFEDGE_PROFLE"] = "typo", ["XRFEDGE_Mqtt__Hots"] = "typo" };

        var error = Assert.Throws<ProfileException>(() =>
            ProfileLoader.Load(RepositoryRoot.Combine("firmware-config", "pi-dp5-uart.json"), ["Model:Path=" + RepositoryRoot.TestModel], environment));

        Assert.Contains("PROFLE: unknown section", error.Message, StringComparison.Ordinal);
        Assert.Contains("Mqtt:Hots: unknown key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PiProfile_OutboxPath_ExpandsStateDirectory()
    {
        var settings = ProfileLoader.Load(RepositoryRoot.Combine("firmware-config", "pi-dp5-uart.json"), ["Model:Path=" + RepositoryRoot.TestModel], Environment);

        Assert.Equal("/var/lib/xrfedge/outbox.db", settings.Outbox.Path);
        Assert.Equal(["CLCK", "TPEA", "GAIN", "THSL", "TLLD", "MCAS", "MCAC"], settings.Acquisition.ConfigurationOrder); // file order, not sorted
    }

    [Fact]
    public void NoOutboxSection_UnderSystemd_OutboxGoesToTheStateDirectoryNotTheReadOnlyProfileFolder()
    {
        var path = Write(Minimal().Replace(OutboxLine, "", StringComparison.Ordinal));
        Assert.DoesNotContain("Outbox", File.ReadAllText(path), StringComparison.Ordinal);

        var settings = ProfileLoader.Load(path, [], new Dictionary<string, string?> { ["STATE_DIRECTORY"] = "/var/lib/xrfedge:/var/lib/other" });

        Assert.Equal("/var/lib/xrfedge/outbox.db", settings.Outbox.Path);
    }

    [Fact]
    public void NoOutboxSection_WithoutSystemd_OutboxNextToTheProfile()
    {
        var path = Write(Minimal().Replace(OutboxLine, "", StringComparison.Ordinal));
        Assert.DoesNotContain("Outbox", File.ReadAllText(path), StringComparison.Ordinal);

        var settings = ProfileLoader.Load(path, [], new Dictionary<string, string?>());

        Assert.Equal(System.IO.Path.Combine(_folder, "outbox.db"), settings.Outbox.Path);
    }

    [Fact]
    public void RelativeOutboxPathOtherThanTheDefault_UnderSystemd_StaysRelativeToTheProfile()
    {
        var path = Write(Minimal());

        var settings = ProfileLoader.Load(path, ["Outbox:Path=data/results.db"], Environment);

        Assert.Equal(System.IO.Path.Combine(_folder, "data", "results.db"), settings.Outbox.Path);
    }

    [Theory]
    [InlineData("Triggered", false)]
    [InlineData("Continuous", true)]
    [InlineData("Scan", true)]
    public void AutoStart_OnlyWhereAModeRunsWithoutATrigger(string mode, bool accepted)
    {
        string[] sets = ["Acquisition:AutoStart=true", "Acquisition:Mode=" + mode];

        var error = Record.Exception(() => ProfileLoader.Load(Write(Minimal()), sets, Environment));

        if (accepted)
        {
            Assert.Null(error);
        }
        else
        {
            var problem = Assert.Single(Assert.IsType<ProfileException>(error).Problems);
            Assert.StartsWith("Acquisition:AutoStart = true: only for Mode Continuous or Scan", problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void PiProfile_WithoutStateDirectory_NamesTheVariable()
    {
        var error = Assert.Throws<ProfileException>(() =>
            ProfileLoader.Load(RepositoryRoot.Combine("firmware-config", "pi-dp5-uart.json"), ["Model:Path=" + RepositoryRoot.TestModel], new Dictionary<string, string?>()));

        Assert.Contains("environment variable STATE_DIRECTORY is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownKey_IsAnErrorNamingTheKnownKeys()
    {
        var path = Write("""{ "Mqtt": { "Hots": "broker" } }""");

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, [], Environment));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("Mqtt:Hots: unknown key", problem, StringComparison.Ordinal);
        Assert.Contains("Host", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NestedAcquisitionCalibrationOrPresetTimeSeconds_IsRejectedAsUnknownKey()
    {
        // The former nested copies: the calibration and the preset live only in Calibration and Acquisition:PresetSeconds.
        var path = Write("""
            {
              "Acquisition": { "PresetSeconds": 2, "PresetTimeSeconds": 2, "Calibration": { "OffsetKeV": -0.02, "GainKeVPerChannel": 0.0146484375 } },
              "Calibration": { "OffsetKeV": -0.02, "GainKeVPerChannel": 0.0146484375 }
            }
            """);

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, [], Environment));

        Assert.Equal(2, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.StartsWith("Acquisition:Calibration: unknown key", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("Acquisition:PresetTimeSeconds: unknown key", StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownSection_IsAnError()
    {
        var path = Write("""{ "Mqqt": { "Host": "broker" } }""");

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, [], Environment));

        Assert.StartsWith("Mqqt: unknown section", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void BadEnum_ListsAllowedValues()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:Mode=Sometimes"], Environment));

        Assert.Equal("Acquisition:Mode = 'Sometimes': must be one of Triggered, Continuous, Scan", Assert.Single(error.Problems));
    }

    [Fact]
    public void AboveTrainedCounts_DefaultsToScaleDownAndAcceptsReport()
    {
        var path = Write(Minimal());

        Assert.Equal(XrfEdge.Inference.CountRangePolicy.ScaleDown, ProfileLoader.Load(path, [], Environment).Decoder.AboveTrainedCounts);
        Assert.Equal(XrfEdge.Inference.CountRangePolicy.Report, ProfileLoader.Load(path, ["Decoder:AboveTrainedCounts=report"], Environment).Decoder.AboveTrainedCounts);
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Decoder:AboveTrainedCounts=Halve"], Environment));
        Assert.Equal("Decoder:AboveTrainedCounts = 'Halve': must be one of ScaleDown, Report", Assert.Single(error.Problems));
    }

    [Theory]
    [InlineData("Rh")]
    [InlineData("W")] // not a catalogue element, but a tube anode the physics tables model
    public void TubeAnode_ElementOrKnownAnode_IsAccepted(string anode)
    {
        var path = Write(Minimal());

        Assert.Null(ProfileLoader.Load(path, [], Environment).Acquisition.TubeAnode);
        Assert.Equal(anode, ProfileLoader.Load(path, [$"Acquisition:TubeAnode={anode}"], Environment).Acquisition.TubeAnode);
    }

    [Fact]
    public void TubeVoltage_Kilovolts_IsAccepted_VoltsAreRefusedNamingTheKey()
    {
        var path = Write(Minimal());

        Assert.Null(ProfileLoader.Load(path, [], Environment).Acquisition.TubeVoltageKilovolts);
        Assert.Equal(40, ProfileLoader.Load(path, ["Acquisition:TubeVoltageKilovolts=40"], Environment).Acquisition.TubeVoltageKilovolts);
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:TubeVoltageKilovolts=40000"], Environment));
        Assert.StartsWith("Acquisition:TubeVoltageKilovolts = 40000: tube voltage 40000 kV is outside 1–200 kV", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void TubeAnode_NotAnElement_IsRefusedNamingTheKey()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:TubeAnode=rh"], Environment));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("Acquisition:TubeAnode = 'rh': 'rh' is not an element of the line catalogue nor a known tube anode", problem, StringComparison.Ordinal);
        Assert.EndsWith("did you mean 'Rh'?", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void NotANumber_SaysWhatIsExpected()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:PresetSeconds=ten"], Environment));

        Assert.Equal("Acquisition:PresetSeconds = 'ten': must be a finite number", Assert.Single(error.Problems));
    }

    [Fact]
    public void OutOfRange_NamesKeyValueAndRule()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:PresetSeconds=-1", "Mqtt:Port=70000"], Environment));

        Assert.StartsWith("Acquisition:PresetSeconds = -1: must be ≥ ", Assert.Single(error.Problems, p => p.StartsWith("Acquisition:PresetSeconds", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("Mqtt:Port = 70000: must be between 1 and 65535", error.Problems);
    }

    [Theory]
    [InlineData("dp5", "0.05", false)] // PRET has 0.1 s steps: 0.05 would be sent as PRET=0.1 or OFF
    [InlineData("dp5", "0.1", true)]
    [InlineData("spi", "0.0004", false)] // rounds to 0 ms, which the SPI MCA reads as "no preset"
    [InlineData("spi", "0.001", true)]
    public void PresetSeconds_BelowTheMcaResolution_IsRefused(string protocol, string preset, bool accepted)
    {
        var path = Write(Minimal());
        string[] overrides = ["Acquisition:Source=Mca", "Acquisition:Device=/dev/ttyUSB0", "Acquisition:Configuration:MCAC=1024", "Acquisition:Protocol=" + protocol, "Acquisition:PresetSeconds=" + preset];

        var problems = ProfileLoaderProblems(path, overrides);

        Assert.Equal(accepted, !problems.Any(p => p.StartsWith("Acquisition:PresetSeconds", StringComparison.Ordinal)));
    }

    private static List<string> ProfileLoaderProblems(string path, string[] overrides)
    {
        try
        {
            ProfileLoader.Load(path, overrides, Environment);
            return [];
        }
        catch (ProfileException ex)
        {
            return [.. ex.Problems];
        }
    }

    [Fact]
    public void SetOverridesEnvironmentOverridesFile()
    {
        var path = Write(Minimal());
        var environment = new Dictionary<string, string?>(Environment) { ["XRFEDGE_Mqtt__Host"] = "from-env", ["XRFEDGE_Mqtt__Port"] = "1884" };

        var settings = ProfileLoader.Load(path, ["Mqtt:Port=1885"], environment);

        Assert.Equal("from-env", settings.Mqtt.Host);
        Assert.Equal(1885, settings.Mqtt.Port);
    }

    [Fact]
    public void MalformedSet_IsAnError()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["PresetSeconds=5"], Environment));

        Assert.Contains("expected Section:Key=Value", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void GpioLineUsedTwice_IsAnError()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Gpio:Enabled=true", "Gpio:TriggerLine=17", "Gpio:BuzzerLine=17"], Environment));

        Assert.Contains("Gpio:BuzzerLine = 17: line already used by Gpio:TriggerLine", error.Problems);
    }

    [Fact]
    public void DataReadyLine_WithDp5Protocol_IsAnError()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:DataReadyLine=12"], Environment));

        Assert.Contains("Acquisition:DataReadyLine = 12: only used with Acquisition:Protocol = spi", error.Problems);
    }

    [Fact]
    public void DataReadyLine_SameLineAsGpioTrigger_IsAnError()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:Protocol=spi", "Acquisition:DataReadyLine=17", "Gpio:Enabled=true", "Gpio:TriggerLine=17"], Environment));

        Assert.Contains("Acquisition:DataReadyLine = 17: line already used by Gpio:TriggerLine on /dev/gpiochip0", error.Problems);
    }

    [Fact]
    public void HighVoltageCommand_WithoutPermission_IsRefusedByTheDeviceRules()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:Source=Mca", "Acquisition:Device=/dev/ttyUSB0", "Acquisition:Configuration:MCAC=1024", "Acquisition:Configuration:HVSE=180"], Environment));

        Assert.Contains(error.Problems, p => p.Contains("HVSE", StringComparison.Ordinal) && p.Contains("AllowHighVoltageCommands", StringComparison.Ordinal));
    }

    [Fact]
    public void McaSource_WithoutMcac_IsRefusedBecauseTheCalibrationNeedsAChannelCount()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:Source=Mca", "Acquisition:Device=/dev/ttyUSB0"], Environment));

        Assert.Contains(error.Problems, p => p.StartsWith("Acquisition: Configuration.MCAC is required", StringComparison.Ordinal));
    }

    [Fact]
    public void McaSource_McacNotANumber_IsRefusedNamingTheKey()
    {
        var path = Write(Minimal());

        // Before the check, 'abc' read as the DP5 default of 1024 channels and passed.
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Acquisition:Source=Mca", "Acquisition:Device=/dev/ttyUSB0", "Acquisition:Configuration:MCAC=abc"], Environment));

        Assert.Equal("Acquisition: Configuration.MCAC must be 256–8192 (a power of two), got 'abc'", Assert.Single(error.Problems));
    }

    [Fact]
    public void LogLevel_NotALevel_IsRefusedNamingTheKey()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Logging:LogLevel:Default=Bogus", "Logging:Console:LogLevel:XrfEdge=warning"], Environment));

        Assert.Equal("Logging:LogLevel:Default = 'Bogus': must be one of Trace, Debug, Information, Warning, Error, Critical, None (or 0–6)", Assert.Single(error.Problems));
    }

    [Theory]
    [InlineData("2", true)] // Information, as Microsoft.Extensions.Logging reads it (Enum.TryParse)
    [InlineData("0", true)]
    [InlineData("6", true)]
    [InlineData("7", false)] // no such level: the logger would take it and filter everything
    [InlineData("-1", false)]
    [InlineData("99", false)]
    public void LogLevel_AsNumber_AcceptedOnlyForRealLevels(string value, bool accepted)
    {
        var path = Write(Minimal());

        var load = () => ProfileLoader.Load(path, ["Logging:LogLevel:Default=" + value], Environment);

        if (accepted)
        {
            Assert.NotNull(load());
        }
        else
        {
            Assert.StartsWith($"Logging:LogLevel:Default = '{value}': must be one of", Assert.Single(Assert.Throws<ProfileException>(load).Problems), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OutboxResultRetentionMegabytes_Set_IsBoundAndDefaultsTo96()
    {
        var path = Write(Minimal());

        Assert.Equal(96, ProfileLoader.Load(path, [], Environment).Outbox.ResultRetentionMegabytes);
        Assert.Equal(12, ProfileLoader.Load(path, ["Outbox:ResultRetentionMegabytes=12"], Environment).Outbox.ResultRetentionMegabytes);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("100001")]
    public void OutboxResultRetentionMegabytes_OutOfRange_IsRefusedNamingTheKey(string value)
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Outbox:ResultRetentionMegabytes=" + value], Environment));

        Assert.StartsWith($"Outbox:ResultRetentionMegabytes = {value}", Assert.Single(error.Problems), StringComparison.Ordinal);
        Assert.Contains("between 1 and 100000", error.Problems[0], StringComparison.Ordinal);
    }

    [Fact]
    public void OutboxPath_ExistingDirectory_IsRefusedNamingTheKey()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Outbox:Path=" + _folder], Environment));

        Assert.StartsWith($"Outbox:Path = '{_folder}': is a directory", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void OutboxPath_UnderAFile_IsRefusedNamingTheKey()
    {
        var path = Write(Minimal());
        string file = Write("", "not-a-folder");

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Outbox:Path=" + file + "/outbox.db"], Environment));

        Assert.Equal($"Outbox:Path = '{file}/outbox.db': '{file}' is a file, so the folder for the database cannot be created", Assert.Single(error.Problems));
    }

    [Fact]
    public void OutboxPath_MissingParentFolders_AreAcceptedAndLeftForTheOutboxToCreate()
    {
        var path = Write(Minimal());
        string outbox = System.IO.Path.Combine(_folder, "state", "xrfedge", "outbox.db");

        Assert.Equal(outbox, ProfileLoader.Load(path, ["Outbox:Path=" + outbox], Environment).Outbox.Path);
        Assert.False(Directory.Exists(System.IO.Path.Combine(_folder, "state"))); // validation only looks
    }

    [Fact]
    public void MissingModelFile_IsNotAProfileError_TheServiceRunsWithoutAnalysis()
    {
        // Exit 78 is never restarted by systemd: a model deleted by a failed update would have stopped the instrument
        // for good. The service now starts without analysis and loads the model when it appears (ModelSlotTests).
        var path = Write(Minimal());

        var settings = ProfileLoader.Load(path, ["Model:Path=no-such-model.onnx"], Environment);

        Assert.EndsWith("no-such-model.onnx", settings.Model.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyModelPath_IsStillAProfileError()
    {
        var path = Write(Minimal());

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, ["Model:Path="], Environment));

        Assert.Contains("Model:Path = '': required", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJson_NamesTheFile()
    {
        var path = Write("""{ "Mqtt": { "Host": """);

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(path, [], Environment));

        Assert.Contains("not valid JSON", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void MqttCommands_SetInTheProfile_BoundIntoTheLibraryCommandOptions()
    {
        var path = Write("""
            {
              "Mqtt": { "DeviceId": "XRF-T-1", "RemoteControl": true,
                        "Commands": { "MaxPayloadBytes": 2048, "MaxPendingCommands": 8, "ResponseTopicPrefix": "acme/replies/",
                                      "MaxAgeSeconds": 20, "MaxClockSkewSeconds": 5, "DeduplicationCapacity": 4096 } }
            }
            """);

        var options = ProfileLoader.Load(path, ["Acquisition:Source=Replay", "Acquisition:ReplayPath=" + Write("{}", "replay.jsonl"), "Model:Path=" + RepositoryRoot.TestModel], Environment)
            .Mqtt.Commands.ToCommandOptions(remoteControlEnabled: true);

        Assert.True(options.RemoteControlEnabled);
        Assert.Equal(2048, options.MaxPayloadBytes);
        Assert.Equal(8, options.MaxPendingCommands);
        Assert.Equal("acme/replies/", options.ResponseTopicPrefix);
        Assert.Equal(TimeSpan.FromSeconds(20), options.MaxAge);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxClockSkew);
        Assert.Equal(4096, options.DeduplicationCapacity);
    }

    [Fact]
    public void MqttCommands_Unset_KeepTheLibraryDefaults()
    {
        var defaults = new XrfEdge.Messaging.Commands.CommandOptions();

        var options = ProfileLoader.Load(Write(Minimal()), [], Environment).Mqtt.Commands.ToCommandOptions(false);

        Assert.Equal(defaults.MaxPayloadBytes, options.MaxPayloadBytes);
        Assert.Equal(defaults.MaxPendingCommands, options.MaxPendingCommands);
        Assert.Null(options.ResponseTopicPrefix);
        Assert.Equal(defaults.MaxAge, options.MaxAge);
        Assert.Equal(defaults.MaxClockSkew, options.MaxClockSkew);
        Assert.Equal(defaults.DeduplicationCapacity, options.DeduplicationCapacity);
    }

    [Fact]
    public void MqttCommands_UnknownKey_IsAnErrorNamingTheKnownKeys()
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), ["Mqtt:Commands:MaxPayload=2048"], Environment));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("Mqtt:Commands:MaxPayload: unknown key (keys of Mqtt:Commands: MaxPayloadBytes, MaxPendingCommands, ResponseTopicPrefix", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MqttCommands_GivenAsAValue_IsAnError()
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), ["Mqtt:Commands=8192"], Environment));

        Assert.StartsWith("Mqtt:Commands = '8192': must be an object of keys (MaxPayloadBytes", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxPayloadBytes=0", "Mqtt:Commands:MaxPayloadBytes = 0: must be between 1024")]
    [InlineData("MaxPayloadBytes=-8192", "Mqtt:Commands:MaxPayloadBytes = -8192: must be between 1024")]
    [InlineData("MaxPayloadBytes=1023", "Mqtt:Commands:MaxPayloadBytes = 1023: must be between 1024")]
    [InlineData("MaxPendingCommands=0", "Mqtt:Commands:MaxPendingCommands = 0: must be between 1 and 1024")]
    [InlineData("MaxAgeSeconds=0", "Mqtt:Commands:MaxAgeSeconds = 0: must be between 5 and 600")]
    [InlineData("MaxAgeSeconds=3600", "Mqtt:Commands:MaxAgeSeconds = 3600: must be between 5 and 600")]
    [InlineData("MaxClockSkewSeconds=-1", "Mqtt:Commands:MaxClockSkewSeconds = -1: must be between 0 and 300")]
    [InlineData("DeduplicationCapacity=-1", "Mqtt:Commands:DeduplicationCapacity = -1: must be between 256")]
    [InlineData("MaxPendingCommands=many", "Mqtt:Commands:MaxPendingCommands = 'many': must be a whole number")]
    public void MqttCommands_OutOfRange_RefusedNamingKeyValueAndRule(string set, string expected)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), ["Mqtt:Commands:" + set], Environment));

        Assert.StartsWith(expected, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Mqtt:DeviceId", "XRF-T-1\n")] // .NET's $ matched before a final newline: accepted until 2026-11-23
    [InlineData("Mqtt:Fleet", "acme\n")]
    [InlineData("Mqtt:DeviceId", "XRF/T-1")]
    [InlineData("Mqtt:DeviceId", "XRF+")]
    [InlineData("Mqtt:Fleet", "#")]
    [InlineData("Mqtt:DeviceId", "Gerät-1")]
    [InlineData("Mqtt:DeviceId", "XRF-T-1\0")]
    public void Mqtt_TopicIdOutsideTheCharacterSet_RefusedNamingTheKey(string key, string value)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), [$"{key}={value}"], Environment));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith($"{key} = '", problem, StringComparison.Ordinal);
        Assert.Contains("must be 1–64 characters from A–Z a–z 0–9 _ -", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xrf/v1/default/_ops/+/", "must not contain the MQTT wildcards")]
    [InlineData("xrf/v1/default/_ops/#", "must not contain the MQTT wildcards")]
    [InlineData("$SYS/replies/", "must not start with '$'")]
    [InlineData("xrf/v1/default/_ops", "must end with '/'")]
    [InlineData("acme//replies/", "must not have an empty topic level")]
    [InlineData("xrf/v1/default/", "under 'xrf/' only the fleet's operations namespace 'xrf/v1/default/_ops/'")]
    [InlineData("xrf/v1/default/XRF-T-1/", "under 'xrf/' only the fleet's operations namespace")]
    [InlineData("xrf/v1/other/_ops/", "under 'xrf/' only the fleet's operations namespace")]
    [InlineData("spBv1.0/", "Sparkplug")]
    [InlineData("homeassistant/", "Home Assistant")]
    public void MqttCommands_ResponseTopicPrefixOutsideTheRules_RefusedSayingWhy(string prefix, string why)
    {
        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), ["Mqtt:Commands:ResponseTopicPrefix=" + prefix], Environment));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith($"Mqtt:Commands:ResponseTopicPrefix = '{prefix}': ", problem, StringComparison.Ordinal);
        Assert.Contains(why, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xrf/v1/default/_ops/")]
    [InlineData("xrf/v1/default/_ops/lab-7/")]
    [InlineData("acme/replies/")]
    public void MqttCommands_ResponseTopicPrefixWithinTheRules_IsAccepted(string prefix)
    {
        var settings = ProfileLoader.Load(Write(Minimal()), ["Mqtt:Commands:ResponseTopicPrefix=" + prefix], Environment);

        Assert.Equal(prefix, settings.Mqtt.Commands.ResponseTopicPrefix);
    }

    [Fact]
    public void MqttCommands_ResponseTopicPrefixTooLong_Refused()
    {
        // 129 characters: one over CommandOptions.MaxResponseTopicPrefixLength.
        var prefix = "acme/" + new string('r', 123) + "/";

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), ["Mqtt:Commands:ResponseTopicPrefix=" + prefix], Environment));

        Assert.Contains("is 129 characters long; at most 128", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private void OpenSsl(params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo("openssl") { WorkingDirectory = _folder, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', args)} failed: {error}");
    }

    /// <summary>A CA, a client certificate with a plain key, one with a key encrypted with "right-pass", and a stray key.</summary>
    private void MakeClientCertificates()
    {
        OpenSsl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=test-ca");
        OpenSsl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=XRF-T-1");
        OpenSsl("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt", "-days", "1");
        OpenSsl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes-256-cbc", "-pass", "pass:right-pass", "-out", "enc.key");
        OpenSsl("req", "-new", "-key", "enc.key", "-passin", "pass:right-pass", "-out", "enc.csr", "-subj", "/CN=XRF-T-1");
        OpenSsl("x509", "-req", "-in", "enc.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "enc.crt", "-days", "1");
        OpenSsl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "stray.key");
    }

    [Theory]
    [InlineData("Mqtt:CertFile=client.crt|Mqtt:KeyFile=client.key")]
    [InlineData("Mqtt:CertFile=enc.crt|Mqtt:KeyFile=enc.key|Mqtt:KeyPassword=right-pass")]
    public void ClientCertificate_ReadableMatchingPair_IsAcceptedWithPathsResolvedAgainstTheProfile(string keys)
    {
        MakeClientCertificates();
        var sets = keys.Split('|');

        var settings = ProfileLoader.Load(Write(Minimal()), ["Mqtt:CaFile=ca.crt", .. sets], Environment);

        Assert.Equal(System.IO.Path.Combine(_folder, sets[0]["Mqtt:CertFile=".Length..]), settings.Mqtt.CertFile);
        Assert.NotNull(settings.Mqtt.ToTlsOptions()!.KeyFile);
    }

    [Theory]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=client.crt" }, "Mqtt:CertFile = '{0}/client.crt': needs Mqtt:KeyFile")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:KeyFile=client.key" }, "Mqtt:KeyFile = '{0}/client.key': needs Mqtt:CertFile")]
    [InlineData(new[] { "Mqtt:CertFile=client.crt", "Mqtt:KeyFile=client.key" }, "Mqtt:CertFile = '{0}/client.crt': a client certificate needs TLS; set Mqtt:CaFile")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=client.crt", "Mqtt:KeyFile=missing.key" }, "Mqtt:KeyFile = '{0}/missing.key': file not found")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=client.key", "Mqtt:KeyFile=client.key" }, "Mqtt:CertFile = '{0}/client.key': holds no PEM certificate")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=enc.crt", "Mqtt:KeyFile=enc.key" }, "Mqtt:KeyFile = '{0}/enc.key': the key is encrypted; set Mqtt:KeyPassword")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=enc.crt", "Mqtt:KeyFile=enc.key", "Mqtt:KeyPassword=wrong-pass" }, "Mqtt:KeyFile = '{0}/enc.key': could not be decrypted with Mqtt:KeyPassword")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=client.crt", "Mqtt:KeyFile=stray.key" }, "Mqtt:KeyFile = '{0}/stray.key': not the private key of Mqtt:CertFile")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:CertFile=client.crt", "Mqtt:KeyFile=client.key", "Mqtt:KeyPassword=x" }, "Mqtt:KeyPassword is set but Mqtt:KeyFile = '{0}/client.key' is not encrypted")]
    [InlineData(new[] { "Mqtt:CaFile=ca.crt", "Mqtt:KeyPassword=x" }, "Mqtt:KeyPassword is set but Mqtt:KeyFile is not")]
    [InlineData(new[] { "Mqtt:CaFile=client.key" }, "Mqtt:CaFile = '{0}/client.key': holds no PEM certificate")]
    public void ClientCertificate_Misconfigured_RefusedAtStartNamingTheKey(string[] sets, string expected)
    {
        MakeClientCertificates();

        var error = Assert.Throws<ProfileException>(() => ProfileLoader.Load(Write(Minimal()), sets, Environment));

        Assert.StartsWith(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, _folder), Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    /// <summary>The Outbox section of <see cref="Minimal"/>, to take it out.</summary>
    private const string OutboxLine = ",\n  \"Outbox\": { \"Path\": \"outbox.db\" }";

    private string Minimal() => $$"""
        {
          "Acquisition": { "Source": "Replay", "ReplayPath": "{{Write("{}", "replay.jsonl")}}" },
          "Model": { "Path": "{{RepositoryRoot.TestModel}}" },
          "Mqtt": { "DeviceId": "XRF-T-1" },
          "Outbox": { "Path": "outbox.db" }
        }
        """;

    private string Write(string text, string name = "profile.json")
    {
        string path = System.IO.Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}

public sealed class ProfileCompatibilityTests
{
    [Theory]
    [InlineData("simulator.json")]
    [InlineData("pi-dp5-uart.json")]
    [InlineData("jetson-spi.json")]
    public void ShippedProfile_AcquireAndServiceLoaders_ReadTheSameCalibrationAndPreset(string file)
    {
        string path = RepositoryRoot.Combine("firmware-config", file);
        var device = XrfEdge.Devices.Acquisition.AcquisitionProfile.Load(path); // what `xrfedge acquire --config` reads
        var settings = ProfileLoader.Bind(ProfileLoader.Build(path, [], new Dictionary<string, string?>()));

        Assert.Equal(device.Calibration.GainKeVPerChannel, settings.Calibration.GainKeVPerChannel);
        Assert.Equal(device.Calibration.OffsetKeV, settings.Calibration.OffsetKeV);
        Assert.Equal(device.PresetTime.TotalSeconds, settings.Acquisition.PresetSeconds);
        Assert.Equal(device.ChannelCount, settings.Acquisition.ChannelCount);
    }
}

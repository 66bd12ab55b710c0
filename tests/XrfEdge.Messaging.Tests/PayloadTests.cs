using System.Text;
using System.Text.Json;
using XrfEdge.Messaging.Adapters;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Messaging.Topics;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Messaging.Tests;

public sealed class PayloadTests
{
    private static readonly TopicTree Topics = TestData.Topics;
    private static readonly OutboxStamp Stamp = TestData.Stamp;

    [Fact]
    public void DetectionPayload_Build_MatchesSchemaAndCarriesResult()
    {
        var json = DetectionPayload.Build(TestData.Measurement("M-1"), Stamp, Topics);
        Assert.Empty(MiniJsonSchema.Validate("detections.schema.json", json));
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(123, root.GetProperty("seq").GetInt64());
        Assert.Equal(Stamp.MsgId.ToString(), root.GetProperty("msg_id").GetString());
        Assert.False(root.GetProperty("historical").GetBoolean());
        Assert.Equal("Fe-KL3", root.GetProperty("lines")[0].GetProperty("line").GetString());
        Assert.Equal(26, root.GetProperty("elements")[0].GetProperty("z").GetInt32());
        Assert.Equal(2048, root.GetProperty("spectrum").GetProperty("channels").GetInt32());
        // TestData: an Rh tube, so Ar (always) and Rh are not assessed.
        Assert.Equal(["Ar", "Rh"], root.GetProperty("not_assessed").EnumerateArray().Select(e => e.GetString()));

        // TestData: live 28.7 s of real 30 s → dead time 4.33 %.
        Assert.Equal(4.33, root.GetProperty("spectrum").GetProperty("dead_time_pct").GetDouble(), 2);

        // TestData: 1.2e8 counts against a trained 1217–2.76e7, scaled by 0.23.
        var counts = root.GetProperty("counts");
        Assert.Equal(1.2e8, counts.GetProperty("total").GetDouble());
        Assert.Equal(2.76e7, counts.GetProperty("trained_high").GetDouble());
        Assert.Equal("above", counts.GetProperty("status").GetString());
        Assert.Equal(0.23, counts.GetProperty("input_scale").GetDouble());

        // TestData: channels end at 20.455 keV, within a trained 20 keV minimum full scale.
        var coverage = root.GetProperty("coverage");
        Assert.Equal(20.455, coverage.GetProperty("upper_kev").GetDouble());
        Assert.Equal(20, coverage.GetProperty("trained_min_kev").GetDouble());
        Assert.Equal("partial", coverage.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(15.0, 20.0, "below_trained")]
    [InlineData(15.0, null, "partial_unrated")]
    [InlineData(40.0, 20.0, "full")]
    public void DetectionPayload_Coverage_ValidAgainstSchemaWithStatus(double lastEdgeKeV, double? trainedMinKeV, string status)
    {
        var measurement = TestData.Measurement("M-3");
        var coverage = EnergyCoverage.Of(lastEdgeKeV, trainedMinKeV);
        var json = DetectionPayload.Build(measurement with { Identification = measurement.Identification with { Coverage = coverage } }, Stamp, Topics);
        Assert.Empty(MiniJsonSchema.Validate("detections.schema.json", json));
        using var document = JsonDocument.Parse(json);
        var written = document.RootElement.GetProperty("coverage");
        Assert.Equal(status, written.GetProperty("status").GetString());
        Assert.Equal(Math.Min(lastEdgeKeV, 30), written.GetProperty("upper_kev").GetDouble());
        Assert.Equal(trainedMinKeV is null ? JsonValueKind.Null : JsonValueKind.Number, written.GetProperty("trained_min_kev").ValueKind);
    }

    [Theory]
    [InlineData(5.0, 1.2, "above_trained")]
    [InlineData(0.0, 1.2, "trained")]
    [InlineData(5.0, null, "unrated")]
    public void DetectionPayload_CoverageStart_ValidAgainstSchemaWithLowerStatus(double firstEdgeKeV, double? trainedMaxStartKeV, string status)
    {
        var measurement = TestData.Measurement("M-5");
        var coverage = EnergyCoverage.Of(firstEdgeKeV, 30, 20, trainedMaxStartKeV);
        var json = DetectionPayload.Build(measurement with { Identification = measurement.Identification with { Coverage = coverage } }, Stamp, Topics);
        Assert.Empty(MiniJsonSchema.Validate("detections.schema.json", json));
        using var document = JsonDocument.Parse(json);
        var written = document.RootElement.GetProperty("coverage");
        Assert.Equal(status, written.GetProperty("lower_status").GetString());
        Assert.Equal(firstEdgeKeV, written.GetProperty("lower_kev").GetDouble());
        Assert.Equal(trainedMaxStartKeV is null ? JsonValueKind.Null : JsonValueKind.Number, written.GetProperty("trained_max_start_kev").ValueKind);

        // The schema pins the start status names too.
        var renamed = Encoding.UTF8.GetString(json).Replace($"\"lower_status\":\"{status}\"", "\"lower_status\":\"late\"", StringComparison.Ordinal);
        Assert.NotEmpty(MiniJsonSchema.Validate("detections.schema.json", Encoding.UTF8.GetBytes(renamed)));
    }

    [Fact]
    public void DetectionPayload_SpectrumWhollyBelowZeroKeV_ValidAgainstSchema()
    {
        // EnergyCalibration.Validate accepts offsets down to -50 keV: 1000 channels of 10 eV from -50 keV end at -40 keV.
        // The start was floored at 0 and the end was not: "upper_kev": -40 broke the schema's minimum 0 (until 2026-11-24).
        var measurement = TestData.Measurement("M-6");
        var coverage = EnergyCoverage.Of(-50.005, -39.995, 20, 1.2);
        var json = DetectionPayload.Build(measurement with { Identification = measurement.Identification with { Coverage = coverage } }, Stamp, Topics);
        Assert.Empty(MiniJsonSchema.Validate("detections.schema.json", json));
        using var document = JsonDocument.Parse(json);
        var written = document.RootElement.GetProperty("coverage");
        Assert.Equal(0, written.GetProperty("upper_kev").GetDouble());
        Assert.Equal("none", written.GetProperty("status").GetString()); // no channel inside the grid (below_trained until 2026-11-24)
    }

    [Fact]
    public void DetectionPayload_UnknownCoverageStatus_RefusedBySchema()
    {
        // The schema pins the status names: a payload with another one must not validate (guards the enum).
        var json = Encoding.UTF8.GetString(DetectionPayload.Build(TestData.Measurement("M-4"), Stamp, Topics)).Replace("\"status\":\"partial\"", "\"status\":\"short\"", StringComparison.Ordinal);
        Assert.NotEmpty(MiniJsonSchema.Validate("detections.schema.json", Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void DetectionPayload_CardWithoutCountRange_NoCountsObjectAndStillValid()
    {
        var measurement = TestData.Measurement("M-2");
        var json = DetectionPayload.Build(measurement with { Identification = measurement.Identification with { Counts = null } }, Stamp, Topics);
        Assert.Empty(MiniJsonSchema.Validate("detections.schema.json", json));
        using var document = JsonDocument.Parse(json);
        Assert.False(document.RootElement.TryGetProperty("counts", out _));
    }

    [Fact]
    public void DetectionPayload_MarkHistorical_SameLengthValidJsonWithFlagSet()
    {
        var json = DetectionPayload.Build(TestData.Measurement("M-1"), Stamp, Topics);
        var historical = DetectionPayload.MarkHistorical(json);
        Assert.Equal(json.Length, historical.Length);
        Assert.Empty(MiniJsonSchema.Validate("detections.schema.json", historical));
        using var document = JsonDocument.Parse(historical);
        Assert.True(document.RootElement.GetProperty("historical").GetBoolean());
    }

    [Fact]
    public void StatusPayloads_BuildStatusAndHealth_MatchSchemas()
    {
        var now = new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
        var status = StatusPayloads.BuildStatus(new InstrumentStatus { State = "idle", BootId = "b1", AppVersion = "0.1.0", Model = new ModelIdentity("m", "1", "ab", "int8") }, now);
        Assert.Empty(MiniJsonSchema.Validate("status.schema.json", status));
        var health = StatusPayloads.BuildHealth(
            new InstrumentHealth { DetectorTemperatureCelsius = -31.8, InputCountsPerSecond = 48210 },
            new OutboxStatistics(12, 48231, TimeSpan.FromSeconds(315), 0, 0, 0, 123, null) { AwaitingReanalysis = 4, PrunedUnanalysedTotal = 2, OldestRunAge = TimeSpan.FromSeconds(90) },
            new MqttHealth(true, 3, 7, "5"),
            null,
            now);
        Assert.Empty(MiniJsonSchema.Validate("health.schema.json", health));
        using var document = JsonDocument.Parse(health);
        Assert.Equal(12, document.RootElement.GetProperty("outbox").GetProperty("depth").GetInt32());
        Assert.Equal(4, document.RootElement.GetProperty("outbox").GetProperty("awaiting_reanalysis").GetInt32()); // since 2026-11-24
        Assert.Equal(2, document.RootElement.GetProperty("outbox").GetProperty("pruned_unanalysed_total").GetInt32());
        Assert.Equal(90.0, document.RootElement.GetProperty("outbox").GetProperty("oldest_run_age_s").GetDouble()); // since 2026-11-25

        // Rows from a release before the run clock: null, still valid.
        var unknown = StatusPayloads.BuildHealth(new InstrumentHealth(), new OutboxStatistics(1, 10, TimeSpan.FromDays(40), 0, 0, 0, 1, null), new MqttHealth(true, 0, null, "5"), null, now);
        Assert.Empty(MiniJsonSchema.Validate("health.schema.json", unknown));
        using var unknownDocument = JsonDocument.Parse(unknown);
        Assert.Equal(JsonValueKind.Null, unknownDocument.RootElement.GetProperty("outbox").GetProperty("oldest_run_age_s").ValueKind);
    }

    [Fact]
    public void MiniJsonSchema_PayloadMissingMember_ReportsIt()
    {
        // Guards the validator itself: a schema check that cannot fail proves nothing.
        var errors = MiniJsonSchema.Validate("status.schema.json", Encoding.UTF8.GetBytes("{\"schema\":\"xrf.status/1\",\"state\":\"sleeping\",\"extra\":1}"));
        Assert.Contains(errors, e => e.Contains("missing required 'boot_id'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("not in enum", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("unexpected member 'extra'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("2026-03-01 10:00:00", false)] // no T, no offset
    [InlineData("2026-03-01T10:00:00", false)] // local time: no offset
    [InlineData("01.03.2026 10:00:00", false)] // de-DE general format
    [InlineData("2026-03-01T10:00:00.000Z", true)]
    [InlineData("2026-03-01T11:00:00+01:00", true)]
    public void MiniJsonSchema_DateTimeFormat_RequiresRfc3339WithOffset(string text, bool valid)
    {
        // Guards the validator's format check, which the real-broker schema tests rely on.
        var json = Encoding.UTF8.GetBytes($"{{\"schema\":\"xrf.status/1\",\"ts\":\"{text}\",\"state\":\"idle\",\"boot_id\":\"b\",\"app_version\":\"1\",\"model\":null,\"config_hash\":null,\"remote_control\":false,\"last_error\":null,\"model_error\":null}}");
        Assert.Equal(valid, MiniJsonSchema.Validate("status.schema.json", json).Count == 0);
    }

    [Fact]
    public void SpectrumPayload_EncodeDecode_RoundTripsCountsAndCalibration()
    {
        var spectrum = TestData.Measurement("M-1").Spectrum;
        var decoded = SpectrumPayload.Decode(SpectrumPayload.Encode("M-1", "XRF-0042", spectrum, null));
        Assert.Equal(spectrum.Counts, decoded.Counts);
        Assert.Equal(spectrum.Calibration, decoded.Calibration);
        Assert.Equal(spectrum.LiveTime, decoded.LiveTime);
        Assert.Equal(spectrum.Excitation, decoded.Excitation);
    }

    [Fact]
    public void SpectrumPayload_DecodeGarbage_ClearError()
    {
        var error = Assert.Throws<InvalidDataException>(() => SpectrumPayload.Decode(new byte[] { 0xFF, 0xFF, 0xFF }));
        Assert.Contains("not a valid xrfedge.v1.Spectrum", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, "live time")] // live_time_s (spectrum.proto field 8)
    [InlineData(9, "real time")] // real_time_s (field 9)
    public void SpectrumPayload_DecodeParseableButTimeOutOfRange_InvalidDataNotOverflow(int field, string what)
    {
        // Damage that still parses (a flipped exponent bit, here +infinity appended as the field's last value, which
        // protobuf keeps) threw OverflowException from TimeSpan.FromSeconds, outside Decode's documented contract.
        var stored = SpectrumPayload.Encode("M-1", "XRF-0042", TestData.Measurement("M-1").Spectrum, null);
        byte[] infinity = [(byte)((field << 3) | 1), 0, 0, 0, 0, 0, 0, 0xF0, 0x7F]; // wire type 1 (64-bit), little-endian
        var error = Assert.Throws<InvalidDataException>(() => SpectrumPayload.Decode([.. stored, .. infinity]));
        Assert.Contains(what, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HomeAssistantDiscovery_BuildConfig_DeviceWithFourSensorsOnNativeTopics()
    {
        var discovery = new HomeAssistantDiscovery(Topics);
        Assert.Equal("homeassistant/device/xrfedge_acme_XRF-0042/config", discovery.ConfigTopic);
        using var document = JsonDocument.Parse(discovery.BuildConfig());
        var root = document.RootElement;
        Assert.Equal("xrfedge_acme_XRF-0042", root.GetProperty("dev").GetProperty("ids")[0].GetString());
        Assert.Equal("XrfEdge", root.GetProperty("o").GetProperty("name").GetString());
        Assert.Equal(Topics.Availability, root.GetProperty("avty_t").GetString());
        var components = root.GetProperty("cmps").EnumerateObject().Select(c => c.Value).ToList();
        Assert.Equal(4, components.Count);
        Assert.All(components, c => Assert.Equal("sensor", c.GetProperty("p").GetString()));
        Assert.Contains(components, c => c.GetProperty("stat_t").GetString() == Topics.Health && c.GetProperty("val_tpl").GetString()!.Contains("temps_c.detector", StringComparison.Ordinal));

        // Last elements reads the retained latest detection since 2026-11-24 (a restarted Home Assistant gets it from the
        // broker at once), under the unique id it always had, so the entity and its history carry over; nothing reads the
        // non-retained detections topic any more. Only the latest measurement is retained there, so every message is shown.
        Assert.DoesNotContain(components, c => c.GetProperty("stat_t").GetString() == Topics.Detections);
        var lastElements = Assert.Single(components, c => c.GetProperty("stat_t").GetString() == Topics.DetectionsLatest);
        Assert.Equal("xrf/v1/acme/XRF-0042/detections/latest", Topics.DetectionsLatest);
        Assert.Equal("xrfedge_acme_XRF-0042_last_elements", lastElements.GetProperty("uniq_id").GetString());
        Assert.Equal("Last elements", lastElements.GetProperty("name").GetString());
        Assert.Equal("{{ value_json.elements | map(attribute='el') | join(', ') or 'none' }}", lastElements.GetProperty("val_tpl").GetString());
    }

    [Fact]
    public void HomeAssistantDiscovery_InstrumentsWhoseIdsJoinAlike_DistinctObjectIdsTopicsAndUniqueIds()
    {
        // Fleet and device ids may both contain '_' (TopicTree: [A-Za-z0-9_-]). Until 2026-11-24 the object id was
        // xrfedge_{fleet}_{device}: fleet "acme_north" device "XRF-1" and fleet "acme" device "north_XRF-1" both became
        // xrfedge_acme_north_XRF-1, one config topic and one set of unique ids for two instruments, so each instrument's
        // config replaced the other's and Home Assistant showed one device (HA: unique_id must be unique per platform).
        var north = new HomeAssistantDiscovery(new TopicTree("acme_north", "XRF-1"));
        var acme = new HomeAssistantDiscovery(new TopicTree("acme", "north_XRF-1"));
        Assert.NotEqual(north.ObjectId, acme.ObjectId);
        Assert.NotEqual(north.ConfigTopic, acme.ConfigTopic);
        Assert.Empty(UniqueIds(north).Intersect(UniqueIds(acme)));

        // Every pair of ids over a small alphabet holding both separators: no two instruments share an object id, and
        // each stays a valid HA object id ([a-zA-Z0-9_-], mqtt.markdown "Discovery topic").
        string[] ids = [.. Words("a_-", 3)];
        var objectIds = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var fleet in ids)
        {
            foreach (var device in ids)
            {
                var id = new HomeAssistantDiscovery(new TopicTree(fleet, device)).ObjectId;
                Assert.Matches("^[A-Za-z0-9_-]+$", id);
                Assert.True(objectIds.TryAdd(id, (fleet, device)), $"'{id}' for ({fleet}, {device}) and {objectIds.GetValueOrDefault(id)}");
            }
        }
    }

    [Fact]
    public void HomeAssistantDiscovery_DeviceBlock_NamesTheSoftwareVersionTheInstrumentRuns()
    {
        // HA mqtt.markdown, device mapping: sw_version (`sw`) is "the firmware version of the device", what a fleet manager
        // reads on the device page to see which instruments still run an old release. Until 2026-11-24 only the origin
        // (`o.sw`, the software that sent the discovery message) named it, and the device page showed no version.
        using var document = JsonDocument.Parse(new HomeAssistantDiscovery(Topics).BuildConfig());
        var device = document.RootElement.GetProperty("dev");
        var version = typeof(HomeAssistantDiscovery).Assembly.GetName().Version!.ToString(3); // Directory.Build.props <Version>, shared by every project
        Assert.Equal(version, device.GetProperty("sw").GetString());
        Assert.Equal(version, document.RootElement.GetProperty("o").GetProperty("sw").GetString());
        Assert.Equal("XrfEdge", device.GetProperty("mf").GetString());
        Assert.Equal("XRF XRF-0042", device.GetProperty("name").GetString());
    }

    [Fact]
    public void HomeAssistantDiscovery_FleetWithoutUnderscore_ObjectIdAsBefore()
    {
        // Stable across versions for the fleets the old scheme served without ambiguity: a changed unique_id makes Home
        // Assistant create new entities and orphan the old ones' history.
        var discovery = new HomeAssistantDiscovery(new TopicTree("acme-2", "XRF_0042"));
        Assert.Equal("xrfedge_acme-2_XRF_0042", discovery.ObjectId);
        Assert.Null(discovery.LegacyConfigTopic);
    }

    [Fact]
    public void HomeAssistantDiscovery_IsOwnLegacyConfig_OnlyThisInstrumentsOldConfig()
    {
        // The legacy topic of (acme_north, XRF-1) is also the current topic of (acme, north_XRF-1): clearing it is right
        // only while the retained config there is this instrument's own (its serial in dev.sn, as versions before
        // 2026-11-24 wrote it).
        var north = new HomeAssistantDiscovery(new TopicTree("acme_north", "XRF-1"));
        var acme = new HomeAssistantDiscovery(new TopicTree("acme", "north_XRF-1"));
        Assert.Equal("homeassistant/device/xrfedge_acme_north_XRF-1/config", north.LegacyConfigTopic);
        Assert.Equal(north.LegacyConfigTopic, acme.ConfigTopic);
        Assert.True(north.IsOwnLegacyConfig(LegacyConfig(new TopicTree("acme_north", "XRF-1"))));
        Assert.False(north.IsOwnLegacyConfig(acme.BuildConfig()));
        Assert.False(north.IsOwnLegacyConfig([]));
        Assert.False(north.IsOwnLegacyConfig("not json"u8.ToArray()));
        Assert.False(north.IsOwnLegacyConfig("""{"dev":{"sn":5}}"""u8.ToArray()));
    }

    [Fact]
    public void HomeAssistantDiscovery_FleetStartingWithUnderscore_AnotherInstrumentsCurrentConfigIsNotItsOwnLegacyOne()
    {
        // A fleet id may begin with '_' (TopicTree: [A-Za-z0-9_-]+). Fleet "_5_ab_cd" device "XRF-1" had the object id
        // xrfedge__5_ab_cd_XRF-1 before 2026-11-24; since then that is the id of fleet "ab_cd" (5 characters) device
        // "XRF-1", whose current config has the same dev.sn and dev.ids[0]. Until the fix the upgraded instrument took
        // that config for its own old one and deleted it with an empty retained message, on every connect.
        var current = new HomeAssistantDiscovery(new TopicTree("ab_cd", "XRF-1"));
        var upgraded = new HomeAssistantDiscovery(new TopicTree("_5_ab_cd", "XRF-1"));
        Assert.Equal(current.ConfigTopic, upgraded.LegacyConfigTopic);
        Assert.False(upgraded.IsOwnLegacyConfig(current.BuildConfig()));
        Assert.True(upgraded.IsOwnLegacyConfig(LegacyConfig(new TopicTree("_5_ab_cd", "XRF-1"))));

        // Every pair of instruments over a small alphabet with a digit and both separators (ids up to 4 characters, enough
        // for a fleet "_1_a"): whatever another instrument retains on this one's legacy topic, its current config or its
        // own old one, is never taken for this instrument's.
        string[] ids = [.. Words("a1_", 4)];
        var byTopic = new Dictionary<string, List<TopicTree>>(StringComparer.Ordinal);
        var instruments = new List<(TopicTree Topics, HomeAssistantDiscovery Discovery)>();
        foreach (var fleet in ids)
        {
            foreach (var device in ids)
            {
                var topics = new TopicTree(fleet, device);
                var discovery = new HomeAssistantDiscovery(topics);
                instruments.Add((topics, discovery));
                byTopic.TryAdd(discovery.ConfigTopic, []);
                byTopic[discovery.ConfigTopic].Add(topics);
            }
        }

        var checkedPairs = 0;
        foreach (var (topics, discovery) in instruments)
        {
            if (discovery.LegacyConfigTopic is not { } legacy || !byTopic.TryGetValue(legacy, out var owners))
            {
                continue;
            }

            foreach (var other in owners.Where(o => o != topics))
            {
                checkedPairs++;
                Assert.False(discovery.IsOwnLegacyConfig(new HomeAssistantDiscovery(other).BuildConfig()), $"({topics.Fleet}, {topics.Device}) would delete the config of ({other.Fleet}, {other.Device})");
                Assert.False(discovery.IsOwnLegacyConfig(LegacyConfig(other)), $"({topics.Fleet}, {topics.Device}) would delete the old config of ({other.Fleet}, {other.Device})");
            }
        }

        Assert.True(checkedPairs > 0, "the alphabet yields no instrument whose legacy topic another one uses now");
    }

    [Fact]
    public void HomeAssistantDiscovery_IsOwnLegacyConfig_MalformedOrForeignShapes_FalseWithoutThrowing()
    {
        // Whatever is retained on the legacy topic comes from any client with write access there: it is only read, and
        // anything but the shape old versions wrote (600f2d5 to 1f02175) is left alone.
        var topics = new TopicTree("acme_north", "XRF-1");
        var north = new HomeAssistantDiscovery(topics);
        var own = Encoding.UTF8.GetString(LegacyConfig(topics));
        string[] foreign =
        [
            own.Replace("\"ids\":[\"xrfedge_acme_north_XRF-1\"]", "\"ids\":\"xrfedge_acme_north_XRF-1\"", StringComparison.Ordinal), // HA also takes a string; we never wrote one
            own.Replace("\"ids\":[\"xrfedge_acme_north_XRF-1\"]", "\"ids\":[]", StringComparison.Ordinal),
            own.Replace("\"avty_t\":", "\"availability_topic\":", StringComparison.Ordinal),
            own[..^1], // truncated
            $"[{own}]",
            new string('[', 10_000) + new string(']', 10_000), // deeper than the reader's limit of 64
        ];
        Assert.True(north.IsOwnLegacyConfig(LegacyConfig(topics)));
        Assert.All(foreign, f => Assert.False(north.IsOwnLegacyConfig(Encoding.UTF8.GetBytes(f))));

        // Not UTF-8 where the serial should be (0xFF never occurs in UTF-8).
        var bytes = LegacyConfig(topics);
        var serial = Encoding.UTF8.GetBytes("\"sn\":\"XRF-1\"");
        var at = bytes.AsSpan().IndexOf(serial);
        Assert.True(at >= 0);
        bytes[at + serial.Length - 2] = 0xFF;
        Assert.False(north.IsOwnLegacyConfig(bytes));
    }

    /// <summary>The config a version before 2026-11-24 retained for <paramref name="topics"/> (its writer, 1f02175, minus the sensors).</summary>
    internal static byte[] LegacyConfig(TopicTree topics)
    {
        var objectId = $"xrfedge_{topics.Fleet}_{topics.Device}";
        return Encoding.UTF8.GetBytes($$$"""{"dev":{"ids":["{{{objectId}}}"],"name":"XRF {{{topics.Device}}}","mf":"XrfEdge","mdl":"Portable XRF analyser","sn":"{{{topics.Device}}}"},"o":{"name":"XrfEdge","sw":"0.1.0"},"avty_t":"{{{topics.Availability}}}","qos":1,"cmps":{}}""");
    }

    private static IEnumerable<string> UniqueIds(HomeAssistantDiscovery discovery)
    {
        using var document = JsonDocument.Parse(discovery.BuildConfig());
        return [.. document.RootElement.GetProperty("cmps").EnumerateObject().Select(c => c.Value.GetProperty("uniq_id").GetString()!)];
    }

    private static IEnumerable<string> Words(string alphabet, int maxLength)
    {
        IEnumerable<string> level = [""];
        for (var length = 1; length <= maxLength; length++)
        {
            level = [.. level.SelectMany(w => alphabet.Select(c => w + c))];
            foreach (var word in level)
            {
                yield return word;
            }
        }
    }

    [Fact]
    public void SparkplugNode_WillNdeath_StampedWithTheTimeOfItsConnectInUtcMilliseconds()
    {
        // Sparkplug B 3.0 chapter 6, Payload: the payload timestamp is milliseconds since the epoch in UTC, "the time at
        // which the message was published"; the spec's NDEATH example carries one. Until 2026-11-24 every NDEATH said
        // timestamp 0, which a host shows as a death on 1970-01-01. A will is built for each CONNECT (the latest moment
        // known before the broker publishes it), so it carries that time.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
        var options = new Transport.MqttTransportOptions { Host = "h", ClientId = "c" };
        SparkplugNode.ConfigureTransport(options, "acme", "XRF-0042", () => 3, clock);
        clock.Advance(TimeSpan.FromMinutes(5));
        var will = Sparkplug.Payload.Parser.ParseFrom(options.WillProvider!().Payload.Span);
        Assert.Equal((ulong)clock.GetUtcNow().ToUnixTimeMilliseconds(), will.Timestamp);
        Assert.Equal(3ul, will.Metrics.Single(m => m.Name == "bdSeq").LongValue);
    }

    [Fact]
    public void SparkplugNode_BuildDeath_SingleInt64BdSeqMetric()
    {
        var payload = Sparkplug.Payload.Parser.ParseFrom(SparkplugNode.BuildDeath(42, 1_795_521_600_000));
        var metric = Assert.Single(payload.Metrics);
        Assert.Equal("bdSeq", metric.Name);
        Assert.Equal(4u, metric.Datatype); // Int64 (Sparkplug 3.0 DataType table)
        Assert.Equal(42ul, metric.LongValue);
        Assert.False(payload.HasSeq);
    }

    [Theory]
    [InlineData("acme/site")] // shifted every level: spBv1.0/acme/site/NBIRTH/… reads as group 'acme', type 'site'
    [InlineData("acme+")]
    [InlineData("#")]
    [InlineData("")]
    [InlineData("a\0b")]
    public void SparkplugNode_GroupOrNodeIdWithReservedCharacter_RefusedNamingTheParameter(string id)
    {
        // Sparkplug B 3.0, chapter 4 "Topic Namespace Elements": any UTF-8 except + / #. Accepted until 2026-11-23.
        var group = Assert.Throws<ArgumentException>(() => SparkplugNode.ConfigureTransport(new Transport.MqttTransportOptions { Host = "h", ClientId = "c" }, id, "XRF-0042", () => 0));
        Assert.Equal("groupId", group.ParamName);
        var node = Assert.Throws<ArgumentException>(() => SparkplugNode.ConfigureTransport(new Transport.MqttTransportOptions { Host = "h", ClientId = "c" }, "acme", id, () => 0));
        Assert.Equal("edgeNodeId", node.ParamName);
    }

    [Fact]
    public void SparkplugNode_NonAsciiIds_Accepted()
    {
        // The spec allows any UTF-8 but + / #; a site name such as "Zürich Süd" is legal.
        SparkplugNode.CheckId("Zürich Süd", "groupId");
    }

    [Theory]
    [InlineData("")]
    [InlineData("home+assistant")]
    [InlineData("homeassistant/")]
    [InlineData("/homeassistant")]
    [InlineData("ha//x")]
    [InlineData("#")]
    public void HomeAssistantDiscovery_PrefixNotATopicPrefix_Refused(string prefix)
    {
        Assert.Equal("prefix", Assert.Throws<ArgumentException>(() => new HomeAssistantDiscovery(Topics, prefix)).ParamName);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a+")]
    [InlineData("#")]
    [InlineData("")]
    [InlineData("XRF-0042\n")] // .NET's $ matched before a final newline: accepted until 2026-11-23
    [InlineData("XRF-0042\0")]
    [InlineData("Gerät-1")]
    [InlineData("XRF 0042")]
    public void TopicTree_IdWithSeparatorOrWildcard_Rejected(string id)
    {
        Assert.Throws<ArgumentException>(() => new TopicTree("acme", id));
        Assert.Throws<ArgumentException>(() => new TopicTree(id, "XRF-0042"));
        Assert.False(TopicTree.IsValidId(id));
    }

    [Fact]
    public void TopicTree_IdLongerThan128_Rejected()
    {
        // 128 = TopicTree's documented limit (docs/mqtt.md §1, also measurement_id's schema pattern).
        Assert.NotNull(new TopicTree("acme", new string('a', 128)));
        Assert.Throws<ArgumentException>(() => new TopicTree("acme", new string('a', 129)));
    }
}

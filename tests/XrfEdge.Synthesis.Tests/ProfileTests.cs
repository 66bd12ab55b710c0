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
    public void Parse_KeyGivenTwice_ErrorNamesKey()
    {
        // The parser kept the second value silently: handheld-sdd with a second live_time_seconds of 500–600 s made
        // spectra of 508 and 558 s live time while the file a reader checks first says 5–60 s.
        var json = GeneratorProfiles.ToJson(GeneratorProfiles.Load("handheld-sdd"))
            .Replace("\"live_time_seconds\":", "\"live_time_seconds\": { \"min\": 500, \"max\": 600 }, \"live_time_seconds\":", StringComparison.Ordinal);

        var ex = Assert.Throws<ArgumentException>(() => GeneratorProfiles.Parse(json, "twice.json"));

        Assert.Contains("twice.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("live_time_seconds", ex.Message, StringComparison.Ordinal);
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

    // Each mutation is well formed JSON of the right type but outside the quantity's physical domain. Before the domain
    // checks every one of them was accepted and made spectra with negative efficiencies, zero or exploding counts, or
    // .jsonl records the reader refuses (a negative tube current), or crashed the writer (a negative live time).
    public static TheoryData<string, string> OutOfDomain => new()
    {
        { "tube_current", "tube_current_microamperes" },
        { "live_time", "live_time_seconds" },
        { "count_rate", "count_rate_counts_per_second" },
        { "detector_thickness", "detectors.thickness_micrometres" },
        { "detector_window", "detectors.be_window_micrometres" },
        { "incidence", "incidence_degrees" },
        { "tail_plus_shelf", "detectors.tail_fraction + detectors.shelf_fraction" },
        { "zero_peak_fraction", "detectors.zero_peak_fraction" },
        { "fwhm", "detectors.fwhm_mn_ka_electronvolts" },
        { "lld", "detectors.lower_threshold_kev" },
        { "full_scale", "mca.full_scale_kev" },
        { "mass_fraction", "samples.mass_fraction" },
        { "element_count", "samples.element_count" },
        { "thin_probability", "samples.thin_probability" },
        { "filter", "filters: 'Xx'" },
        { "path_length", "paths.length_millimetres" },
    };

    [Theory]
    [MemberData(nameof(OutOfDomain))]
    public void Parse_ValueOutsidePhysicalDomain_ErrorNamesKey(string mutation, string key)
    {
        var p = GeneratorProfiles.Load("handheld-sdd");
        var d = p.Detectors[0];
        var bad = mutation switch
        {
            "tube_current" => p with { TubeCurrentMicroamperes = new Profiles.ValueRange(-5, -1) },
            "live_time" => p with { LiveTimeSeconds = new Profiles.ValueRange(-5, -1) },
            "count_rate" => p with { CountRateCountsPerSecond = new Profiles.ValueRange(-5, -1) },
            "detector_thickness" => p with { Detectors = [d with { ThicknessMicrometres = new Profiles.ValueRange(-5, -1) }] },
            "detector_window" => p with { Detectors = [d with { BeWindowMicrometres = new Profiles.ValueRange(-500, -100) }] },
            "incidence" => p with { IncidenceDegrees = Profiles.ValueRange.Fixed(0) },
            "tail_plus_shelf" => p with { Detectors = [d with { TailFraction = new Profiles.ValueRange(0.8, 0.9), ShelfFraction = new Profiles.ValueRange(0.5, 0.6) }] },
            "zero_peak_fraction" => p with { Detectors = [d with { ZeroPeakProbability = 1, ZeroPeakFraction = new Profiles.ValueRange(2, 3) }] },
            // 1 MeV FWHM: the handheld-sdd spectra of seed 3 came out with up to 2.7e17 counts.
            "fwhm" => p with { Detectors = [d with { FwhmMnKaElectronvolts = Profiles.ValueRange.Fixed(1e6) }] },
            "lld" => p with { Detectors = [d with { LowerThresholdKeV = new Profiles.ValueRange(50, 60) }] },
            // 0.05 keV over 2048 channels is 2.4e-5 keV/channel, under EnergyCalibration's 5e-4 minimum.
            "full_scale" => p with { Mca = p.Mca with { FullScaleKeV = Profiles.ValueRange.Fixed(0.05) } },
            "mass_fraction" => p with { Samples = p.Samples with { MassFraction = new Profiles.ValueRange(2, 5) } },
            "element_count" => p with { Samples = p.Samples with { ElementCount = Profiles.ValueRange.Fixed(0) } },
            "thin_probability" => p with { Samples = p.Samples with { ThinProbability = 1.5 } },
            "filter" => p with { Filters = [new Profiles.FilterOption("Xx", Profiles.ValueRange.Fixed(10))] },
            "path_length" => p with { Paths = [new Profiles.PathOption("air", new Profiles.ValueRange(-10, -1))] },
            _ => throw new ArgumentOutOfRangeException(nameof(mutation)),
        };

        var ex = Assert.Throws<ArgumentException>(() => GeneratorProfiles.Parse(GeneratorProfiles.ToJson(bad), "bad.json"));

        Assert.Contains("bad.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a/b")]
    [InlineData("two words")]
    public void Parse_NameNotAWord_ErrorNamesKey(string name)
    {
        // The name is the spectrum ids' prefix (NAME-seed-index), meta.json's "profile" and what training/make_model.sh
        // and the model card compare; an empty one was accepted and wrote ids "-1001-0000000" and "profile": "".
        var bad = GeneratorProfiles.Load("handheld-pin") with { Name = name };

        var ex = Assert.Throws<ArgumentException>(() => GeneratorProfiles.Parse(GeneratorProfiles.ToJson(bad), "bad.json"));

        Assert.Contains("bad.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EveryProfileInTheRepository_StillValid()
    {
        // The domain checks must not reject a profile the training pipeline uses (training/profiles).
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "training", "profiles"), "*.json"))
        {
            var profile = GeneratorProfiles.Load(file);
            Assert.Empty(profile.Validate());
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "XrfEdge.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root (XrfEdge.sln) not found above " + AppContext.BaseDirectory);
    }
}

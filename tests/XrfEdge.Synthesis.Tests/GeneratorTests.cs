using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Synthesis.Tests;

public sealed class GeneratorTests
{
    [Fact]
    public void Generate_SameSeedAndIndex_IdenticalSpectrum()
    {
        var a = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 99);
        var b = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 99);
        for (var i = 0; i < 20; i++)
        {
            var x = a.Generate(i);
            var y = b.Generate(i);
            Assert.Equal(x.Spectrum.Counts, y.Spectrum.Counts);
            Assert.Equal(x.Spectrum.Calibration, y.Spectrum.Calibration);
            Assert.Equal(x.Lines, y.Lines);
            Assert.Equal(x.IgnoreElements, y.IgnoreElements);
        }
    }

    [Fact]
    public void Generate_LabelSystematicFraction_SameSpectraAndFewerButContainedLines()
    {
        // ε only changes the detection limit: same counts, and every line detectable with ε is detectable without.
        // 200 randomized spectra span 1e3–1e7 counts; a 5 % systematic term must drop some line somewhere (at 1e7
        // counts the Poisson-only limit accepts lines at a few per mille of their background).
        var plain = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 11);
        var strict = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 11) { LabelSystematicFraction = 0.05 };
        var dropped = 0;
        for (var i = 0; i < 200; i++)
        {
            var a = plain.Generate(i);
            var b = strict.Generate(i);
            Assert.Equal(a.Spectrum.Counts, b.Spectrum.Counts);
            Assert.Equal(a.ElementsInSample, b.ElementsInSample);
            Assert.Subset(a.Lines.ToHashSet(), b.Lines.ToHashSet());
            dropped += a.Lines.Count - b.Lines.Count;
        }

        Assert.True(dropped > 0, "a 5 % systematic background term removed no label in 200 spectra");
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(0.51)]
    [InlineData(double.NaN)]
    public void LabelSystematicFraction_OutOfRange_Throws(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 1) { LabelSystematicFraction = fraction });
    }

    [Fact]
    public void Generate_DifferentSeeds_DifferentSpectra()
    {
        var a = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 1).Generate(0);
        var b = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 2).Generate(0);
        Assert.NotEqual(a.Spectrum.Counts, b.Spectrum.Counts);
    }

    [Fact]
    public void Generate_ConcurrentThreadsInAnyOrder_SameAsSequential()
    {
        var g = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 5);
        var sequential = Enumerable.Range(0, 64).Select(i => g.Generate(i).Spectrum.Counts).ToArray();
        var parallel = new long[64][];
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[63 - i] = g.Generate(63 - i).Spectrum.Counts);
        for (var i = 0; i < 64; i++)
        {
            Assert.Equal(sequential[i], parallel[i]);
        }
    }

    [Theory]
    [InlineData("handheld-sdd")]
    [InlineData("handheld-pin")]
    [InlineData("benchtop")]
    [InlineData("macro-xrf")]
    [InlineData("randomized")]
    public void Generate_EveryShippedProfile_ValidSpectraAndConsistentLabels(string name)
    {
        var g = new SpectrumGenerator(GeneratorProfiles.Load(name), 3);
        var catalog = LineCatalog.Default;
        for (var i = 0; i < 40; i++)
        {
            var s = g.Generate(i);
            Assert.Null(s.Spectrum.Calibration.Validate(s.Spectrum.Counts.Length));
            Assert.Contains(s.Spectrum.Counts.Length, g.Profile.Mca.ChannelCounts);
            Assert.All(s.Spectrum.Counts, c => Assert.True(c >= 0));
            Assert.True(s.Spectrum.TotalCounts > 0);
            // Every detected element has a detected line, and every detected line's element is detected.
            Assert.Equal(s.Lines.Select(l => l[..l.IndexOf('-', StringComparison.Ordinal)]).Distinct().Order(), s.Elements.Order());
            // The anode and Ar are always ignored; in-sample but undetected elements are ignored.
            if (catalog.ElementIndex(s.Conditions.Anode) >= 0)
            {
                Assert.Contains(s.Conditions.Anode, s.IgnoreElements); // W is not a catalogue element
            }

            Assert.Contains("Ar", s.IgnoreElements);
            Assert.All(s.ElementsInSample.Except(s.Elements), e => Assert.Contains(e, s.IgnoreElements));
            // Paper lines are every catalogue line of every element in the sample.
            Assert.Equal(s.ElementsInSample.Sum(e => catalog.LinesByElement[catalog.ElementIndex(e)].Count), s.PaperLines.Count);
            // Detected elements come from the sample, the tube (scatter) or the air (Ar).
            Assert.All(s.Elements, e => Assert.True(s.ElementsInSample.Contains(e) || e == s.Conditions.Anode || e == "Ar", $"{e} detected but not in the sample"));
        }
    }

    [Fact]
    public void Generate_PureIronStandard_FeKalphaDetectedAndAllFeLinesInPaperLabel()
    {
        var s = new SpectrumGenerator(TestProfiles.Fixed("Fe"), 1).Generate(0);
        Assert.Contains("Fe-KL3", s.Lines);
        Assert.Contains("Fe-KM3", s.Lines);
        Assert.Equal(["Fe"], s.ElementsInSample);
        Assert.Contains("Fe", s.Elements);
        Assert.DoesNotContain("Fe", s.IgnoreElements);
        Assert.Equal(LineCatalog.Default.LinesByElement[LineCatalog.Default.ElementIndex("Fe")].Select(l => l.Name).Order(), s.PaperLines.Order());
    }

    [Fact]
    public void Generate_AcrylicBlankWithoutTraces_OnlyScatterAndNoScoredElement()
    {
        // PMMA is C, H, O: O-K (0.525 keV) lies under the 0.3-keV LLD's reach only in vacuum with a thin window; the
        // rest of the spectrum is Rh scatter. So nothing but O, Rh can be detected.
        var s = new SpectrumGenerator(TestProfiles.Fixed(sampleKind: "blank"), 1).Generate(0);
        Assert.Equal("blank", s.Conditions.SampleKind);
        Assert.All(s.Elements, e => Assert.Contains(e, new[] { "O", "Rh" }));
        Assert.Contains("Rh", s.Elements); // Rh Kα Rayleigh peak is visible
        Assert.Contains("Rh", s.IgnoreElements);
    }

    [Fact]
    public void Generate_LowCounts_TraceLineNotLabelled()
    {
        // 1000 counts cannot show a 1-ppm-level line: Currie's L_D ≥ 2.71 counts needs far more signal.
        var p = TestProfiles.Fixed("Fe", liveTimeSeconds: 1, countRate: 1000);
        var s = new SpectrumGenerator(p, 1).Generate(0);
        Assert.InRange(s.Spectrum.TotalCounts, 850, 1150);
        Assert.Contains("Fe-KL3", s.Lines);
        Assert.DoesNotContain("Fe-L3M5", s.Lines); // Fe L at 0.705 keV: fluorescence yield 0.0038, absorbed by the 8 µm Be window
    }

    [Fact]
    public void ModelInput_OfGeneratedSpectrum_SharesTheServicePreprocessing()
    {
        // The generator's spectra are RawSpectrum like any acquisition: ModelInput (the service path) rebins them.
        var s = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 1).Generate(4).Spectrum;
        var input = ModelInput.From(s);
        var rebinned = Rebinner.Rebin(s);
        Assert.Equal(rebinned.Counts.Select(c => (float)c), input.Values);
    }

    [Fact]
    public void Constructor_InvalidProfile_ThrowsNamingProblem()
    {
        var p = GeneratorProfiles.Load("benchtop") with { TubeVoltageKilovolts = new Profiles.ValueRange(30, 80) };
        var ex = Assert.Throws<ArgumentException>(() => new SpectrumGenerator(p, 1));
        Assert.Contains("tube_voltage_kilovolts", ex.Message, StringComparison.Ordinal);
    }
}

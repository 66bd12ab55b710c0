using XrfEdge.Spectra.Catalog;
using XrfEdge.Synthesis.Profiles;

namespace XrfEdge.Synthesis.Tests;

/// <summary>
/// Bragg diffraction of crystalline samples and escape-peak correction (generator 1.1): both are drawn from a second
/// random stream, so a profile without them makes exactly the spectra it made before.
/// </summary>
public sealed class DiffractionTests
{
    private const double HcKeVAngstrom = 12.398419843;

    private static GeneratorProfile WithDiffraction(string kind = "pure", double scatterDegrees = 120, double spreadDegrees = 0.5)
    {
        var p = TestProfiles.Fixed("Cu", sampleKind: kind);
        return p with
        {
            ScatterAngleDegrees = ValueRange.Fixed(scatterDegrees),
            Diffraction = new DiffractionOptions(1, ValueRange.Fixed(2), ValueRange.Fixed(3.6), ValueRange.Fixed(spreadDegrees)),
        };
    }

    private static double[] Expected(SpectrumGenerator g, long index, out int reflections, out double[] energies, out double[] weights)
    {
        var ws = g.Rent();
        g.Simulate(index, ws);
        reflections = ws.DiffractionPeaks;
        energies = ws.ReflectionEnergy.AsSpan(0, reflections).ToArray();
        weights = ws.ReflectionWeight.AsSpan(0, reflections).ToArray();
        var expected = ws.Expected.AsSpan(0, ws.ChannelCount).ToArray();
        g.Return(ws);
        return expected;
    }

    [Fact]
    public void Generate_DisabledEffects_SameCountsAsWithoutThem()
    {
        // Probability 0 and escape scale 1 are the old behaviour: every channel of every spectrum is identical.
        var plain = TestProfiles.Fixed("Fe");
        var off = plain with
        {
            Diffraction = new DiffractionOptions(0, ValueRange.Fixed(2), ValueRange.Fixed(3), ValueRange.Fixed(1)),
            Detectors = [plain.Detectors[0] with { EscapePeakScale = ValueRange.Fixed(1) }],
        };
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(new SpectrumGenerator(plain, 7).Generate(i).Spectrum.Counts, new SpectrumGenerator(off, 7).Generate(i).Spectrum.Counts);
        }
    }

    [Fact]
    public void Diffraction_PeakEnergiesFollowBraggsLawForTheDrawnLattice()
    {
        // With a = 3.6 Å at 2θ = 120°, every reflection is E = hc/(2 d sin 60°) with d ≤ the largest spacing any of the
        // six lattices allows (c ≤ 1.65 a for hcp/tetragonal), d ≥ 1/(2·0.75 Å⁻¹), and E between 1 keV and the tube kV.
        var g = new SpectrumGenerator(WithDiffraction(), 11);
        var sinB = Math.Sin(60 * Math.PI / 180);
        var any = false;
        for (var i = 0; i < 6; i++)
        {
            Expected(g, i, out var n, out var energies, out var weights);
            Assert.InRange(n, 1, 512);
            Assert.Equal(1.0, weights.Max(), 12);
            foreach (var e in energies)
            {
                var d = HcKeVAngstrom / (2 * e * sinB);
                Assert.InRange(d, (1 / 1.5) - 1e-9, (3.6 * 1.65) + 1e-9);
                Assert.InRange(e, 1, 50);
            }

            // A cubic draw puts every reflection on (a/d)² = h² + k² + l², an integer.
            var cubic = energies.All(e => Math.Abs(Math.Pow(3.6 / (HcKeVAngstrom / (2 * e * sinB)), 2) - Math.Round(Math.Pow(3.6 / (HcKeVAngstrom / (2 * e * sinB)), 2))) < 1e-6);
            any |= cubic;
        }

        Assert.True(any, "none of six draws was a cubic lattice (4 of the 6 lattice kinds are cubic)");
    }

    [Fact]
    public void Diffraction_StrongestReflectionStandsAboveTheSpectrumWithout()
    {
        // Same spectrum index with and without diffraction: at the strongest reflection the expected counts rise by about
        // the drawn peak-to-background factor 2 (the background estimate is the smallest flank level, so at least ×1.3),
        // and the Cu Kα label is unchanged.
        var with = new SpectrumGenerator(WithDiffraction(), 5);
        var without = new SpectrumGenerator(TestProfiles.Fixed("Cu") with { ScatterAngleDegrees = ValueRange.Fixed(120) }, 5);
        var checkedOne = false;
        for (var i = 0; i < 6 && !checkedOne; i++)
        {
            var a = Expected(with, i, out var n, out var energies, out var weights);
            var b = Expected(without, i, out _, out _, out _);
            var top = energies[Array.IndexOf(weights, weights.Max())];
            if (top is < 2 or > 25 || Math.Abs(top - 8.05) < 1.2 || Math.Abs(top - 8.9) < 1.2)
            {
                continue; // next to the Cu K lines the flank estimate is not the continuum; try another draw
            }

            var ch = (int)Math.Round(top / 0.01); // test profile: 10 eV channels from 0 keV
            Assert.True(a[ch] > 1.3 * b[ch], $"reflection at {top:0.00} keV: {a[ch]:0.0} vs {b[ch]:0.0} expected counts");
            checkedOne = true;
            Assert.Equal(with.Generate(i).Lines.Contains("Cu-KL3"), without.Generate(i).Lines.Contains("Cu-KL3"));
            Assert.True(n > 0);
        }

        Assert.True(checkedOne, "no draw had its strongest reflection clear of the Cu K lines");
    }

    [Theory]
    [InlineData("blank")]
    [InlineData("thin")]
    public void Diffraction_BlanksAndThinFilmsNeverDiffract(string kind)
    {
        var p = kind == "thin"
            ? TestProfiles.Fixed("Cu", thinMassThickness: 1e-3) with { Diffraction = WithDiffraction().Diffraction }
            : WithDiffraction("blank");
        var g = new SpectrumGenerator(p, 3);
        for (var i = 0; i < 4; i++)
        {
            Expected(g, i, out var n, out _, out _);
            Assert.Equal(0, n);
            Assert.False(g.Generate(i).Spectrum.Metadata.ContainsKey("diffraction_peaks"));
        }
    }

    [Fact]
    public void EscapeScale_Zero_RemovesTheFeEscapePeakAndKeepsItsCountsInKalpha()
    {
        // Fe Kα escape sits at 6.40 − 1.74 = 4.66 keV. With the scale at 0 (vendor-corrected spectra) the expected counts
        // there drop to the continuum, and the Gaussian area the labels use grows by the escape fraction.
        var plain = TestProfiles.Fixed("Fe");
        var corrected = plain with { Detectors = [plain.Detectors[0] with { EscapePeakScale = ValueRange.Fixed(0) }] };
        double Window(SpectrumGenerator g, out double gaussKa)
        {
            var ws = g.Rent();
            g.Simulate(0, ws);
            LineCatalog.Default.TryGetLine("Fe-KL3", out var ka);
            gaussKa = ws.LineGaussianArea[ka!.Index];
            double sum = 0;
            for (var ch = 461; ch <= 471; ch++)
            {
                sum += ws.Expected[ch];
            }

            g.Return(ws);
            return sum;
        }

        var g1 = new SpectrumGenerator(plain, 2);
        var g0 = new SpectrumGenerator(corrected, 2);
        var withEscape = Window(g1, out var ka1);
        var withoutEscape = Window(g0, out var ka0);
        Assert.True(withEscape > 3 * withoutEscape, $"{withEscape:0} vs {withoutEscape:0} expected counts at 4.61–4.71 keV");
        var escape = g1.EscapeFraction(6.4039);
        Assert.InRange(ka0 / ka1, 1 + (escape * 0.9), 1 + (escape * 1.1));
        Assert.Equal("0", g0.Generate(0).Spectrum.Metadata["escape_peak_scale"]);
    }

    [Fact]
    public void Validate_BadDiffractionAndEscapeValues_NamedInTheProblems()
    {
        var p = TestProfiles.Fixed("Fe");
        var bad = p with
        {
            Diffraction = new DiffractionOptions(1.5, ValueRange.Fixed(-1), ValueRange.Fixed(1), ValueRange.Fixed(30)),
            Detectors = [p.Detectors[0] with { EscapePeakScale = new ValueRange(0, 2) }],
        };
        var problems = string.Join("\n", bad.Validate());
        Assert.Contains("diffraction.probability", problems);
        Assert.Contains("diffraction.peak_to_continuum", problems);
        Assert.Contains("diffraction.lattice_parameter_angstroms", problems);
        Assert.Contains("diffraction.angular_spread_degrees", problems);
        Assert.Contains("detectors.escape_peak_scale", problems);
    }
}

/// <summary>Low-energy detector background and the anode L-line scale (generator 1.2), also on the second stream.</summary>
public sealed class LowEnergyTests
{
    private static (double[] Expected, double[] TubePhotons, double Total) Run(GeneratorProfile p)
    {
        var g = new SpectrumGenerator(p, 4);
        var ws = g.Rent();
        g.Simulate(0, ws);
        var result = (ws.Expected.AsSpan(0, ws.ChannelCount).ToArray(), ws.TubePhotons.AsSpan(0, ws.TubeLineCount).ToArray(), ws.ExpectedTotal);
        g.Return(ws);
        return result;
    }

    [Fact]
    public void LowEnergyBackground_AddsThePlateauBelowTheKneeOnly()
    {
        // Level 1e-3 of the total counts per keV, knee 1.5 keV, width 0.1 keV: at 0.5–1.0 keV (10 eV channels) each
        // channel gains 1e-5 × total × 1/(1 + e^((E − 1.5)/0.1)); at 5 keV nothing changes.
        var plain = TestProfiles.Fixed("Fe");
        var low = plain with
        {
            Detectors = [plain.Detectors[0] with
            {
                LowEnergyBackground = new LowEnergyBackgroundOption(ValueRange.Fixed(1e-3), ValueRange.Fixed(1.5), ValueRange.Fixed(0.1)),
            }],
        };
        var (a, _, total) = Run(plain);
        var (b, _, _) = Run(low);
        for (var ch = 50; ch <= 100; ch++)
        {
            var e = ch * 0.01;
            var want = 1e-3 * total * 0.01 / (1 + Math.Exp((e - 1.5) / 0.1));
            Assert.InRange(b[ch] - a[ch], want * 0.999, want * 1.001);
        }

        Assert.Equal(a[500], b[500], 9);
    }

    [Fact]
    public void AnodeLLineScale_ScalesTheTubeLLinesAndLeavesTheKLines()
    {
        var plain = TestProfiles.Fixed("Fe");
        var (_, k1, _) = Run(plain);
        var (_, k2, _) = Run(plain with { AnodeLLineScale = ValueRange.Fixed(0.1) });
        Assert.Equal(k1.Length, k2.Length);
        var ratios = k1.Zip(k2, (x, y) => y / x).ToArray();
        Assert.All(ratios, r => Assert.True(Math.Abs(r - 1) < 1e-12 || Math.Abs(r - 0.1) < 1e-12, $"ratio {r}"));
        Assert.Contains(ratios, r => Math.Abs(r - 1) < 1e-12);   // Rh K lines at 50 kV
        Assert.Contains(ratios, r => Math.Abs(r - 0.1) < 1e-12); // Rh L lines
    }

    [Fact]
    public void Validate_BadLowEnergyAndLLineValues_NamedInTheProblems()
    {
        var p = TestProfiles.Fixed("Fe");
        var bad = p with
        {
            AnodeLLineScale = new ValueRange(-1, 1),
            Detectors = [p.Detectors[0] with
            {
                LowEnergyBackground = new LowEnergyBackgroundOption(new ValueRange(0, 0.5), ValueRange.Fixed(1), ValueRange.Fixed(0)),
            }],
        };
        var problems = string.Join("\n", bad.Validate());
        Assert.Contains("anode_l_line_scale", problems);
        Assert.Contains("low_energy_background.level_per_kev", problems);
        Assert.Contains("low_energy_background.width_kev", problems);
    }

    [Fact]
    public void Parse_ShippedProfiles_RoundTripTheNewKeys()
    {
        var p = GeneratorProfiles.Load("randomized");
        Assert.NotNull(p.AnodeLLineScale);
        Assert.NotNull(p.Diffraction);
        Assert.All(p.Detectors, d => Assert.NotNull(d.LowEnergyBackground));
        var json = GeneratorProfiles.ToJson(p);
        Assert.Contains("\"knee_kev\"", json);
        Assert.Contains("\"anode_l_line_scale\"", json);
        Assert.Equal(GeneratorProfiles.ToJson(GeneratorProfiles.Parse(json, "round-trip")), json);
    }
}

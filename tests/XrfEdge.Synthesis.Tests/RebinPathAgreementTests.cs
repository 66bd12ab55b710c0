using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Synthesis.Tests;

/// <summary>
/// Second review of RebinPlan's edge snapping (2026-11-24): on the calibrations the shipped generator profiles draw (the
/// spectra the model was trained on through Rebinner, npy output), the inference path (RebinPlan) gives the same float32
/// model input as training's Rebinner, bin for bin, to float rounding.
/// </summary>
public sealed class RebinPathAgreementTests
{
    // 150 spectra per profile: every channel count a profile lists is drawn several times (at most 4 counts per profile).
    private const int SpectraPerProfile = 150;

    public static TheoryData<string> Profiles()
    {
        var data = new TheoryData<string>();
        foreach (var name in GeneratorProfiles.Names)
        {
            data.Add(name);
        }

        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "training", "profiles"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(file);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void RebinPlan_ShippedProfileCalibrations_SameFloat32InputAsRebinner(string profile)
    {
        var generator = new SpectrumGenerator(GeneratorProfiles.Load(profile), 7007);
        var training = new double[ModelGrid.BinCount];
        var inference = new float[ModelGrid.BinCount];
        var differing = 0;
        for (var index = 0; index < SpectraPerProfile; index++)
        {
            var spectrum = generator.Generate(index).Spectrum;
            var trainingOutside = Rebinner.Rebin(spectrum.Counts, spectrum.Calibration, training);
            var inferenceOutside = RebinPlan.Create(spectrum.Calibration, spectrum.Counts.Length).Apply(spectrum.Counts, inference);
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                var expected = (float)training[bin];
                if (inference[bin] != expected)
                {
                    differing++;

                    // Summation order only: at most one float32 step (ulp) apart, never a count moved between bins.
                    Assert.True(
                        Math.Abs(inference[bin] - expected) <= MathF.BitIncrement(Math.Abs(expected)) - Math.Abs(expected),
                        $"{profile} spectrum {index} bin {bin}: RebinPlan {inference[bin]:R}, Rebinner {expected:R}");
                }
            }

            Assert.Equal(trainingOutside, inferenceOutside, 1e-9 * Math.Max(1, spectrum.TotalCounts));
        }

        // Bit-for-bit on almost every bin: a real disagreement (a sliver, a shifted edge) would differ on many.
        Assert.True(differing <= SpectraPerProfile * ModelGrid.BinCount / 100, $"{profile}: {differing} of {SpectraPerProfile * ModelGrid.BinCount} bins differ by one float32 step");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XrfEdge.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("XrfEdge.sln not found above " + AppContext.BaseDirectory);
    }
}

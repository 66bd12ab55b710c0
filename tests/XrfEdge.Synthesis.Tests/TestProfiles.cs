using XrfEdge.Synthesis.Profiles;

namespace XrfEdge.Synthesis.Tests;

/// <summary>
/// Controlled profiles for physics tests: the shipped <c>benchtop</c> profile with every spread removed
/// (Rh 50 kV, vacuum, SDD 140 eV, 4096 channels × 10 eV from 0 keV, no calibration error, no zero peak),
/// so a test changes only what it studies.
/// </summary>
internal static class TestProfiles
{
    public static GeneratorProfile Fixed(
        string pureElement = "Fe",
        double liveTimeSeconds = 100,
        double countRate = 50_000,
        double incidenceDegrees = 45,
        double takeoffDegrees = 45,
        double? thinMassThickness = null,
        string sampleKind = "pure")
    {
        var p = GeneratorProfiles.Load("benchtop");
        var d = p.Detectors[0];
        return p with
        {
            Name = "test-fixed",
            Anodes = [new WeightedValue("Rh")],
            TubeBeWindowMicrometres = ValueRange.Fixed(100),
            TubeTakeoffDegrees = ValueRange.Fixed(15),
            AnodeLineScale = ValueRange.Fixed(1),
            IncidenceDegrees = ValueRange.Fixed(incidenceDegrees),
            TakeoffDegrees = ValueRange.Fixed(takeoffDegrees),
            ScatterAngleDegrees = null,
            PolycapillaryProbability = 0,
            Paths = [new PathOption("vacuum")],
            Detectors = [d with
            {
                FwhmMnKaElectronvolts = ValueRange.Fixed(140),
                BeWindowMicrometres = ValueRange.Fixed(8),
                DeadLayerMicrometres = ValueRange.Fixed(0.03),
                TailFraction = ValueRange.Fixed(0.01),
                ShelfFraction = ValueRange.Fixed(0.001),
                PileupResolvingTimeNanoseconds = ValueRange.Fixed(20),
                LowerThresholdKeV = ValueRange.Fixed(0.3),
                ZeroPeakProbability = 0,
                SiliconPeakFraction = null,
                EscapePeakScale = null,
                LowEnergyBackground = null,
            }],
            Diffraction = null,
            AnodeLLineScale = null,
            Mca = new McaOptions([4096], ValueRange.Fixed(40.95), ValueRange.Fixed(0), ValueRange.Fixed(0), ValueRange.Fixed(0), ValueRange.Fixed(0)),
            LiveTimeSeconds = ValueRange.Fixed(liveTimeSeconds),
            CountRateCountsPerSecond = ValueRange.Fixed(countRate),
            Samples = p.Samples with
            {
                BlankWeight = sampleKind == "blank" ? 1 : 0,
                PureWeight = sampleKind == "pure" ? 1 : 0,
                AlloyWeight = 0,
                MixtureWeight = 0,
                PureElements = [pureElement],
                ThinProbability = thinMassThickness is null ? 0 : 1,
                ThinMassThicknessGramsPerSquareCentimetre = ValueRange.Fixed(thinMassThickness ?? 1e-3),
                TraceImpurityProbability = 0,
                FiniteProbability = 0,
            },
        };
    }

    /// <summary>Sum of counts in channels whose centre lies within [lowKeV, highKeV].</summary>
    public static double CountsBetween(XrfEdge.Spectra.RawSpectrum s, double lowKeV, double highKeV)
    {
        double sum = 0;
        for (var ch = 0; ch < s.Counts.Length; ch++)
        {
            var e = s.Calibration.EnergyKeV(ch);
            if (e >= lowKeV && e <= highKeV)
            {
                sum += s.Counts[ch];
            }
        }

        return sum;
    }

    /// <summary>Energy of the channel with the most counts within [lowKeV, highKeV], after a 5-channel running mean.</summary>
    public static double PeakEnergy(XrfEdge.Spectra.RawSpectrum s, double lowKeV, double highKeV)
    {
        var best = double.NaN;
        var bestValue = double.NegativeInfinity;
        for (var ch = 2; ch < s.Counts.Length - 2; ch++)
        {
            var e = s.Calibration.EnergyKeV(ch);
            if (e < lowKeV || e > highKeV)
            {
                continue;
            }

            double v = s.Counts[ch - 2] + s.Counts[ch - 1] + s.Counts[ch] + s.Counts[ch + 1] + s.Counts[ch + 2];
            if (v > bestValue)
            {
                bestValue = v;
                best = e;
            }
        }

        return best;
    }
}

using System.Globalization;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;
using XrfEdge.Spectra.Physics;
using XrfEdge.Synthesis.Profiles;
using XrfEdge.Synthesis.Sampling;

namespace XrfEdge.Synthesis;

/// <summary>
/// The distributions a <see cref="SpectrumGenerator"/> draws each spectrum's instrument and sample from. Profiles are
/// data: JSON files embedded from <c>src/XrfEdge.Synthesis/Profiles/*.json</c> (snake_case keys), documented field by
/// field in <c>docs/synthesis-profiles.md</c>, loaded by <see cref="GeneratorProfiles.Load"/>.
/// </summary>
public sealed record GeneratorProfile
{
    /// <summary>
    /// Widest detector resolution a profile may draw, eV FWHM at Mn Kα: 500, twice a Si-PIN at short shaping time
    /// (170–250 eV). Wider is outside what the detector model was built for: with 1 and 3 keV the total counts of
    /// handheld-sdd spectra (seed 3) came out up to 1.3× and 70× the profile's rate × live time.
    /// </summary>
    public const double MaxFwhmMnKaElectronvolts = 500;

    /// <summary>Highest lower-level discriminator a profile may draw, keV: 10 (real ones sit at 0.2–1.0; at 10 keV every L line of the catalogue is gone).</summary>
    public const double MaxLowerThresholdKeV = 10;

    /// <summary>Profile name, e.g. "randomized".</summary>
    public required string Name { get; init; }

    /// <summary>One sentence on the instrument the profile models.</summary>
    public string Description { get; init; } = "";

    /// <summary>Tube anodes to choose from: Cr, Cu, Mo, Rh, Ag, W.</summary>
    public required IReadOnlyList<WeightedValue> Anodes { get; init; }

    /// <summary>Tube high voltage, kV, 15–50; drawn values are rounded to whole kV (tubes are set in 1-kV steps).</summary>
    public required ValueRange TubeVoltageKilovolts { get; init; }

    /// <summary>Tube current, µA (recorded in the excitation; the count rate sets the intensity).</summary>
    public required ValueRange TubeCurrentMicroamperes { get; init; }

    /// <summary>Tube Be exit window, µm: 75–250 on side-window tubes, 25–125 on end-window tubes.</summary>
    public required ValueRange TubeBeWindowMicrometres { get; init; }

    /// <summary>Electron-beam take-off angle inside the tube (anode self-absorption), degrees: 6–26.</summary>
    public required ValueRange TubeTakeoffDegrees { get; init; }

    /// <summary>Scale of the anode characteristic lines against the Kramers continuum (1 = the nominal model), 0.5–1.5 to randomise tube spectra.</summary>
    public required ValueRange AnodeLineScale { get; init; }

    /// <summary>
    /// Extra scale of the anode's L lines (on top of <see cref="AnodeLineScale"/>), log range e.g. 0.05–1.5; null = 1.
    /// In vacuum the NIST Bruker files show the Rh L scatter at about 0.1× what the tube model gives.
    /// </summary>
    [System.Text.Json.Serialization.JsonPropertyName("anode_l_line_scale")]
    public ValueRange? AnodeLLineScale { get; init; }

    /// <summary>
    /// Probability that the primary beam is focused by a polycapillary optic (micro-XRF benchtops such as the NIST Bruker
    /// instrument). Its acceptance follows the critical angle of total reflection, θ_c ∝ 1/E, so the transmission falls as
    /// (E_c/E)² above a cut-off E_c (<see cref="PolycapillaryCutoffKeV"/>), 0–1.
    /// </summary>
    public double PolycapillaryProbability { get; init; }

    /// <summary>Cut-off energy of the polycapillary transmission, keV: 5–15 (transmission ≈ 1 below, (E_c/E)² above).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("polycapillary_cutoff_kev")]
    public ValueRange PolycapillaryCutoffKeV { get; init; } = ValueRange.Fixed(10);

    /// <summary>Primary-beam filters.</summary>
    public required IReadOnlyList<FilterOption> Filters { get; init; }

    /// <summary>Probability of monochromatic excitation (the anode's strongest K line only, as from a secondary target), 0–1.</summary>
    public double MonochromaticProbability { get; init; }

    /// <summary>Angle between the incident beam and the sample surface, degrees: 30–70.</summary>
    public required ValueRange IncidenceDegrees { get; init; }

    /// <summary>Angle between the detected beam and the sample surface, degrees: 30–70. Scattering angle = 180° − incidence − take-off, clamped to 90–150°.</summary>
    public required ValueRange TakeoffDegrees { get; init; }

    /// <summary>
    /// Scattering angle between incident and detected beams, degrees, 90–150; null = coplanar geometry
    /// (180° − incidence − take-off). Real instruments are often not coplanar, and the angle sets the Compton shift
    /// (the NIST Bruker spectra show Rh Kα Compton at 18.8 keV, i.e. about 140°).
    /// </summary>
    public ValueRange? ScatterAngleDegrees { get; init; }

    /// <summary>Beam path atmospheres.</summary>
    public required IReadOnlyList<PathOption> Paths { get; init; }

    /// <summary>Detectors.</summary>
    public required IReadOnlyList<DetectorOption> Detectors { get; init; }

    /// <summary>MCA channels and calibration spread.</summary>
    public required McaOptions Mca { get; init; }

    /// <summary>Live time, s: 0.1–300.</summary>
    public required ValueRange LiveTimeSeconds { get; init; }

    /// <summary>Input count rate, counts/s (log range): 1e2–2e5. Total counts = rate × live time (1e3–1e7 in the randomized profile).</summary>
    public required ValueRange CountRateCountsPerSecond { get; init; }

    /// <summary>Samples.</summary>
    public required SampleOptions Samples { get; init; }

    /// <summary>Bragg diffraction peaks of crystalline samples; null = none.</summary>
    public DiffractionOptions? Diffraction { get; init; }

    /// <summary>Elements outside the catalogue in the sample, rendered as unlabelled lines; null = none.</summary>
    public ForeignElementOptions? ForeignElements { get; init; }

    /// <summary>Returns every problem of the profile as one sentence each (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        // The name is the prefix of every spectrum id (NAME-seed-index) and meta.json's "profile", which the model card
        // records and training/make_model.sh compares: an empty name or one with '/' or spaces made ids that say nothing.
        if (string.IsNullOrEmpty(Name) || Name.Length > 64 || !Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            problems.Add($"name '{Name}' must be 1–64 letters, digits, '-', '_' or '.' (it prefixes every spectrum id)");
        }

        void Range(ValueRange? r, string name)
        {
            if (r is null)
            {
                problems.Add($"{name} is missing");
            }
            else if (r.Validate(name) is { } p)
            {
                problems.Add(p);
            }
        }

        void Weights<T>(IReadOnlyList<T>? list, Func<T, double> weight, string name)
        {
            if (list is null || list.Count == 0 || list.Sum(weight) <= 0 || list.Any(x => weight(x) < 0))
            {
                problems.Add($"{name} needs at least one option with a positive weight and no negative weights");
            }
        }

        Weights(Anodes, a => a.Weight, "anodes");
        foreach (var a in Anodes ?? [])
        {
            if (a.Value is not ("Cr" or "Cu" or "Mo" or "Rh" or "Ag" or "W"))
            {
                problems.Add($"anodes: '{a.Value}' is not one of Cr, Cu, Mo, Rh, Ag, W");
            }
        }

        Range(TubeVoltageKilovolts, "tube_voltage_kilovolts");
        if (TubeVoltageKilovolts is { } kv && (kv.Min < 10 || kv.Max > 50))
        {
            problems.Add("tube_voltage_kilovolts must lie within 10–50 kV (the physics tables end at 60 keV, tube lines at 50 keV)");
        }

        Range(TubeCurrentMicroamperes, "tube_current_microamperes");
        Range(PolycapillaryCutoffKeV, "polycapillary_cutoff_kev");
        Range(TubeBeWindowMicrometres, "tube_be_window_micrometres");
        Range(TubeTakeoffDegrees, "tube_takeoff_degrees");
        Range(AnodeLineScale, "anode_line_scale");
        if (AnodeLLineScale is { } lScale)
        {
            Range(lScale, "anode_l_line_scale");
            if (lScale.Min < 0)
            {
                problems.Add("anode_l_line_scale must not be negative");
            }
        }
        Weights(Filters, f => f.Weight, "filters");
        Range(IncidenceDegrees, "incidence_degrees");
        Range(TakeoffDegrees, "takeoff_degrees");
        if (ScatterAngleDegrees is { } angle)
        {
            Range(angle, "scatter_angle_degrees");
            if (angle.Min < 90 || angle.Max > 150)
            {
                problems.Add("scatter_angle_degrees must lie within 90–150° (the tabulated scatter cross-sections)");
            }
        }

        Weights(Paths, p => p.Weight, "paths");
        foreach (var p in Paths ?? [])
        {
            if (p.Medium is not ("air" or "helium" or "vacuum"))
            {
                problems.Add($"paths: medium '{p.Medium}' is not air, helium or vacuum");
            }
        }

        Weights(Detectors, d => d.Weight, "detectors");
        foreach (var d in Detectors ?? [])
        {
            Range(d.FwhmMnKaElectronvolts, "detectors.fwhm_mn_ka_electronvolts");
            if (d.FwhmMnKaElectronvolts is { } f && f.Min < 121)
            {
                problems.Add("detectors.fwhm_mn_ka_electronvolts below 121 eV is under the Fano limit of silicon");
            }

            Range(d.BeWindowMicrometres, "detectors.be_window_micrometres");
            Range(d.DeadLayerMicrometres, "detectors.dead_layer_micrometres");
            Range(d.ThicknessMicrometres, "detectors.thickness_micrometres");
            Range(d.TailFraction, "detectors.tail_fraction");
            Range(d.ShelfFraction, "detectors.shelf_fraction");
            Range(d.PileupResolvingTimeNanoseconds, "detectors.pileup_resolving_time_nanoseconds");
            Range(d.LowerThresholdKeV, "detectors.lower_threshold_kev");
            Range(d.ZeroPeakFraction, "detectors.zero_peak_fraction");
            if (d.EscapePeakScale is { } escape)
            {
                Range(escape, "detectors.escape_peak_scale");
                if (escape.Min < 0 || escape.Max > 1)
                {
                    problems.Add("detectors.escape_peak_scale must lie within 0–1 (a share of the physical escape probability)");
                }
            }

            if (d.LowEnergyBackground is { } low)
            {
                Range(low.LevelPerKeV, "detectors.low_energy_background.level_per_kev");
                Range(low.KneeKeV, "detectors.low_energy_background.knee_kev");
                Range(low.WidthKeV, "detectors.low_energy_background.width_kev");
                if (low.LevelPerKeV is { } level && (level.Min < 0 || level.Max > 0.05))
                {
                    problems.Add("detectors.low_energy_background.level_per_kev must lie within 0–0.05 of the total counts per keV");
                }

                if (low.WidthKeV is { } width && width.Min <= 0)
                {
                    problems.Add("detectors.low_energy_background.width_kev must be positive");
                }
            }
        }

        if (Diffraction is { } diffraction)
        {
            if (!(diffraction.Probability is >= 0 and <= 1))
            {
                problems.Add("diffraction.probability must lie within 0–1");
            }

            Range(diffraction.PeakToContinuum, "diffraction.peak_to_continuum");
            Range(diffraction.LatticeParameterAngstroms, "diffraction.lattice_parameter_angstroms");
            Range(diffraction.AngularSpreadDegrees, "diffraction.angular_spread_degrees");
            if (diffraction.LatticeParameterAngstroms is { } a && a.Min < 1.5)
            {
                problems.Add("diffraction.lattice_parameter_angstroms below 1.5 Å is not a crystal lattice");
            }

            if (diffraction.AngularSpreadDegrees is { } spread && (spread.Min < 0 || spread.Max > 20))
            {
                problems.Add("diffraction.angular_spread_degrees must lie within 0–20°");
            }

            if (diffraction.PeakToContinuum is { } ratio && ratio.Min < 0)
            {
                problems.Add("diffraction.peak_to_continuum must not be negative");
            }
        }

        if (ForeignElements is { } foreign)
        {
            if (!(foreign.Probability is >= 0 and <= 1))
            {
                problems.Add("foreign_elements.probability must lie within 0–1");
            }

            Range(foreign.Count, "foreign_elements.count");
            Range(foreign.MassFraction, "foreign_elements.mass_fraction");
            if (foreign.Count is { } count && (count.Min < 1 || count.Max > Workspace.MaxForeignElements))
            {
                problems.Add($"foreign_elements.count must lie within 1–{Workspace.MaxForeignElements}");
            }

            if (foreign.MassFraction is { } fraction && (fraction.Min <= 0 || fraction.Max > 0.05))
            {
                problems.Add("foreign_elements.mass_fraction must lie within (0, 0.05]: foreign elements are minor or trace constituents");
            }

            if (foreign.Elements is { } symbols)
            {
                var known = PhysicsTables.Default.ForeignLines.Select(l => l.Element).ToHashSet(StringComparer.Ordinal);
                if (symbols.Count == 0)
                {
                    problems.Add("foreign_elements.elements is empty (leave it out to draw from every foreign element)");
                }

                foreach (var symbol in symbols.Where(s => !known.Contains(s)))
                {
                    problems.Add($"foreign_elements.elements: '{symbol}' is not a foreign element (known: {string.Join(' ', known)})");
                }
            }
        }

        if (Mca is null)
        {
            problems.Add("mca is missing");
        }
        else
        {
            if (Mca.ChannelCounts is null || Mca.ChannelCounts.Count == 0 || Mca.ChannelCounts.Any(c => c is < 256 or > 16384))
            {
                problems.Add("mca.channel_counts needs values within 256–16384");
            }

            Range(Mca.FullScaleKeV, "mca.full_scale_kev");
            Range(Mca.OffsetKeV, "mca.offset_kev");
            Range(Mca.QuadraticShareOfFullScale, "mca.quadratic_share_of_full_scale");
            Range(Mca.GainErrorRelative, "mca.gain_error_relative");
            Range(Mca.OffsetErrorKeV, "mca.offset_error_kev");
        }

        Range(LiveTimeSeconds, "live_time_seconds");
        Range(CountRateCountsPerSecond, "count_rate_counts_per_second");
        if (Samples is null)
        {
            problems.Add("samples is missing");
        }
        else
        {
            if (Samples.BlankWeight + Samples.PureWeight + Samples.AlloyWeight + Samples.MixtureWeight <= 0)
            {
                problems.Add("samples: the blank/pure/alloy/mixture weights sum to zero");
            }

            Range(Samples.ElementCount, "samples.element_count");
            Range(Samples.MassFraction, "samples.mass_fraction");
            Range(Samples.ThinMassThicknessGramsPerSquareCentimetre, "samples.thin_mass_thickness_grams_per_square_centimetre");
            if (Samples.FiniteMassThicknessGramsPerSquareCentimetre is { } finite)
            {
                Range(finite, "samples.finite_mass_thickness_grams_per_square_centimetre");
                if (finite.Min <= 0)
                {
                    problems.Add("samples.finite_mass_thickness_grams_per_square_centimetre must be positive");
                }
            }
            Weights(Samples.Matrices, m => m.Weight, "samples.matrices");
            if (Samples.FixedComposition is { } fixedComposition
                && (fixedComposition.Count == 0 || fixedComposition.Sum(e => e.MassFraction) <= 0 || fixedComposition.Any(e => e.MassFraction < 0 || Spectra.Physics.PhysicsTables.Default.AbsorberIndex(e.Symbol) is < 0 or >= 48)))
            {
                problems.Add("samples.fixed_composition needs tabulated element symbols with non-negative mass fractions summing above 0");
            }

            if (Samples.PureElements is { } pure && (pure.Count == 0 || pure.Any(e => Spectra.Catalog.LineCatalog.Default.ElementIndex(e) < 0)))
            {
                problems.Add("samples.pure_elements must list catalogue element symbols");
            }
            foreach (var m in Samples.Matrices ?? [])
            {
                if (!Sampling.Matrices.IsKnown(m.Value))
                {
                    problems.Add($"samples.matrices: '{m.Value}' is not a known matrix ({string.Join(", ", Sampling.Matrices.Names)})");
                }
            }
        }

        ValidateDomains(problems);
        return problems;
    }

    /// <summary>
    /// The physical domain of every drawn quantity. A range that is well formed but outside it (a negative thickness,
    /// a tail fraction above 1, a live time of −5 s) does not fail in the generator: it makes spectra with negative
    /// efficiencies, zero or exploding counts, or records (a negative tube current, a negative live time) that the
    /// <c>.jsonl</c> reader refuses, so it is refused here, by key, before anything is generated.
    /// </summary>
    private void ValidateDomains(List<string> problems)
    {
        void Within(ValueRange? r, string name, double min, double max, string why)
        {
            if (r is not null && double.IsFinite(r.Min) && double.IsFinite(r.Max) && (r.Min < min || r.Max > max))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} [{r.Min}, {r.Max}] must lie within {min}–{max} ({why})"));
            }
        }

        void Above(ValueRange? r, string name, double exclusiveMin, string why)
        {
            if (r is not null && double.IsFinite(r.Min) && !(r.Min > exclusiveMin))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} [{r.Min}, {r.Max}] must be above {exclusiveMin} ({why})"));
            }
        }

        void Probability(double p, string name)
        {
            if (!(p is >= 0 and <= 1))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name} is {p}; a probability lies within 0–1"));
            }
        }

        const string Thickness = "a thickness or length cannot be negative";
        Within(TubeCurrentMicroamperes, "tube_current_microamperes", 0, double.MaxValue, "the .jsonl format refuses a negative tube current");
        Within(TubeBeWindowMicrometres, "tube_be_window_micrometres", 0, double.MaxValue, Thickness);
        Within(TubeTakeoffDegrees, "tube_takeoff_degrees", double.Epsilon, 90, "an angle to the anode surface");
        Within(AnodeLineScale, "anode_line_scale", 0, double.MaxValue, "a scale of photon numbers");
        Probability(PolycapillaryProbability, "polycapillary_probability");
        Above(PolycapillaryCutoffKeV, "polycapillary_cutoff_kev", 0, "the transmission is (E_c/E)²");
        Probability(MonochromaticProbability, "monochromatic_probability");
        Within(IncidenceDegrees, "incidence_degrees", double.Epsilon, 90, "an angle to the sample surface; the geometry factor is sin(incidence)/sin(take-off)");
        Within(TakeoffDegrees, "takeoff_degrees", double.Epsilon, 90, "an angle to the sample surface; the geometry factor is sin(incidence)/sin(take-off)");
        foreach (var filter in Filters ?? [])
        {
            if (filter.Element is { } element && (PhysicsTables.Default.AbsorberIndex(element) < 0 || !PhysicsTables.Default.TryGetElement(element, out _)))
            {
                // An unknown filter element used to be skipped silently: the spectra then had no filter at all.
                problems.Add($"filters: '{element}' is not an element of the physics tables (src/XrfEdge.Spectra/Data/physics)");
            }

            Within(filter.ThicknessMicrometres, "filters.thickness_micrometres", 0, double.MaxValue, Thickness);
        }

        foreach (var path in Paths ?? [])
        {
            Within(path.LengthMillimetres, "paths.length_millimetres", 0, double.MaxValue, Thickness);
        }

        foreach (var d in Detectors ?? [])
        {
            Within(d.FwhmMnKaElectronvolts, "detectors.fwhm_mn_ka_electronvolts", 0, MaxFwhmMnKaElectronvolts, "silicon detectors stay far below it");
            Within(d.BeWindowMicrometres, "detectors.be_window_micrometres", 0, double.MaxValue, Thickness);
            Within(d.DeadLayerMicrometres, "detectors.dead_layer_micrometres", 0, double.MaxValue, Thickness);
            Above(d.ThicknessMicrometres, "detectors.thickness_micrometres", 0, "the efficiency is 1 − e^(−τρt)");
            Within(d.TailFraction, "detectors.tail_fraction", 0, 1, "a share of each peak's counts");
            Within(d.ShelfFraction, "detectors.shelf_fraction", 0, 1, "a share of each peak's counts");
            if (d.TailFraction is { } tail && d.ShelfFraction is { } shelf && tail.Max + shelf.Max >= 1)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"detectors.tail_fraction + detectors.shelf_fraction reach {tail.Max + shelf.Max}; they must stay below 1 (the Gaussian keeps the rest)"));
            }

            Within(d.PileupResolvingTimeNanoseconds, "detectors.pileup_resolving_time_nanoseconds", 0, double.MaxValue, "a time");
            Within(d.LowerThresholdKeV, "detectors.lower_threshold_kev", 0, MaxLowerThresholdKeV, "a discriminator energy; real ones sit at 0.2–1.0 keV");
            Probability(d.ZeroPeakProbability, "detectors.zero_peak_probability");
            Within(d.ZeroPeakFraction, "detectors.zero_peak_fraction", 0, 0.99, "a share of all counts; the physics keeps the rest");
            Within(d.SiliconPeakFraction, "detectors.silicon_peak_fraction", 0, 0.1, "a share of all counts");
        }

        if (Mca is { ChannelCounts: { Count: > 0 } channelCounts, FullScaleKeV: { } fullScale, OffsetKeV: { } offset }
            && fullScale.Validate("f") is null && offset.Validate("o") is null)
        {
            // The generator falls back to a linear true calibration when the quadratic one is not usable; that one must be.
            foreach (var n in channelCounts.Where(c => c is >= 256 and <= 16384).Distinct())
            {
                foreach (var (full, off) in new[] { (fullScale.Min, offset.Max), (fullScale.Max, offset.Min) })
                {
                    if (new EnergyCalibration(off, (full - off) / (n - 1)).Validate(n) is { } bad)
                    {
                        problems.Add(string.Create(CultureInfo.InvariantCulture, $"mca.full_scale_kev {full} with mca.offset_kev {off} over {n} channels is not a usable calibration: {bad}"));
                    }
                }
            }
        }

        Above(LiveTimeSeconds, "live_time_seconds", 0, "a live time");
        Within(LiveTimeSeconds, "live_time_seconds", 0, SpectrumJsonl.MaxSeconds / 2, "the real time, up to 1.9× the live time, must stay within the .jsonl format's longest time");
        Above(CountRateCountsPerSecond, "count_rate_counts_per_second", 0, "a spectrum needs counts");
        if (Samples is { } s)
        {
            if (s.BlankWeight < 0 || s.PureWeight < 0 || s.AlloyWeight < 0 || s.MixtureWeight < 0)
            {
                problems.Add("samples: the blank/pure/alloy/mixture weights must not be negative");
            }

            // Rounded to whole elements; a mixture draws from the catalogue without O and Ar.
            var mixtureCandidates = Spectra.Catalog.LineCatalog.Default.Elements.Count - 2;
            Within(s.ElementCount, "samples.element_count", 0.5, mixtureCandidates, "whole elements, at least one, at most the catalogue's mixture candidates");
            Within(s.MassFraction, "samples.mass_fraction", double.Epsilon, 1, "a mass fraction");
            Probability(s.ThinProbability, "samples.thin_probability");
            Above(s.ThinMassThicknessGramsPerSquareCentimetre, "samples.thin_mass_thickness_grams_per_square_centimetre", 0, "a mass thickness");
            Probability(s.FiniteProbability, "samples.finite_probability");
            Probability(s.TraceImpurityProbability, "samples.trace_impurity_probability");
        }
    }
}

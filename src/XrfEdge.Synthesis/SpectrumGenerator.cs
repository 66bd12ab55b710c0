using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Physics;
using XrfEdge.Synthesis.Profiles;
using XrfEdge.Synthesis.Sampling;

namespace XrfEdge.Synthesis;

/// <summary>
/// Physics-based synthetic XRF spectra: X-ray tube (Kramers continuum with anode self-absorption, characteristic
/// lines, Be window, filters) → thick or thin homogeneous sample (fundamental-parameter primary fluorescence with
/// matrix absorption of primary and fluorescent photons) → Rayleigh and Compton scatter of the whole primary
/// spectrum → air/He/vacuum path with Ar fluorescence → Si detector (window, dead layer, thickness, Fano-law
/// resolution, low-energy tail and shelf, Si escape peaks, pile-up sum peaks, LLD, zero peak) → MCA with
/// calibration drift → Poisson counts, with Currie detection-limit labels. The model and its limits are
/// described in <c>docs/synthesis.md</c>.
/// </summary>
/// <remarks>
/// <see cref="Generate"/> is deterministic in (seed, index) and thread-safe: each spectrum draws from its own
/// random stream, so the output does not depend on thread count or order.
/// </remarks>
public sealed class SpectrumGenerator
{
    /// <summary>
    /// Generator version written into dataset metadata; bump when an existing profile's spectra change. A new opt-in
    /// profile option (foreign_elements) leaves it: older builds reject a profile that uses the option (unknown keys
    /// are an error), and every profile without it gives the same bytes (tested).
    /// </summary>
    public const string Version = "xrfedge-synth/1.3";

    /// <summary>Fano factor of silicon used in the resolution law (issue 3): 0.115.</summary>
    public const double FanoFactor = 0.115;

    /// <summary>Mean energy per electron–hole pair in silicon, keV: 3.85 eV.</summary>
    public const double PairEnergyKeV = 0.00385;

    /// <summary>Mn Kα energy at which detector resolution is specified, keV.</summary>
    public const double MnKaKeV = 5.895;

    /// <summary>Si Kα energy, keV: escape peaks sit this far below their parent (xraylib LineEnergy(14, KL3) = 1.7400).</summary>
    public const double SiKaKeV = 1.74;

    /// <summary>Half-width of the label window in FWHM units (issue 3): ±1.2 FWHM.</summary>
    public const double LabelWindowFwhm = 1.2;

    private const double SiKEdgeKeV = 1.8389;
    private const double FwhmPerSigma = 2.3548200450309493;
    private const double AirDensity = 0.001205;     // g/cm³, dry air at 20 °C (NIST)
    private const double HeliumDensity = 0.000166;  // g/cm³, He at 20 °C
    private const double BerylliumDensity = 1.848;  // g/cm³
    private const double SiliconDensity = 2.33;     // g/cm³
    private const double ArgonInAir = 0.0128;       // mass fraction of Ar in dry air (NIST)
    private const double SiJumpRatio = 10.4;        // K-edge jump ratio of Si (xraylib JumpFactor(14, K) ≈ 10.4)

    // Seed mask of the second random stream per spectrum (tube L-line scale, escape correction, low-energy background,
    // diffraction): keeps the main stream, and so every spectrum of a profile without these effects, as it was.
    internal const ulong AuxiliaryStream = 0xD1FF_4AC7_E5CA_9E00UL;

    // Kramers' law: continuum photons per electron per keV (4π) = k·Z·(E0/E − 1), k ≈ 1.1e-6 /keV (Kramers 1923,
    // as usually quoted for thick targets).
    private const double KramersConstant = 1.1e-6;

    // Characteristic ionisations per electron = C·n_s·(U0·ln U0 − U0 + 1): the Bethe cross-section integrated over a
    // Thomson–Whiddington slowing-down path; C chosen so Cu K at 30 kV gives ≈ 5e-4 ionisations per electron
    // (Green & Cosslett 1968 measured ≈ 1e-4 Kα photons per electron per sr there).
    private const double IonisationConstant = 3.0e-4;

    private static readonly double FourPi = 4 * Math.PI;

    // Base metals of alloy-like samples (Fe and Cu alloys are the most common in the field, hence repeated).
    private static readonly string[] AlloyBases = ["Fe", "Fe", "Fe", "Cu", "Cu", "Ni", "Al", "Ti", "Zn", "Sn", "Pb", "Ag", "Au", "Co", "Mg", "Zr", "Cr", "Pt", "Pd"];

    // Alloying additions and tramp elements of steels, brasses, bronzes, solders, precious-metal and light alloys.
    private static readonly string[] AlloyAdditions = ["Cr", "Ni", "Mn", "Mo", "Cu", "Si", "V", "Co", "Zn", "Sn", "Pb", "Fe", "Ti", "Al", "Mg", "Bi", "Sb", "As", "P", "S", "Ag", "Au", "Zr", "Cd", "Te", "Pd", "Pt", "Ge", "Ca"];

    private static readonly string[] AnodeSymbols = ["Cr", "Cu", "Mo", "Rh", "Ag", "W"];

    private readonly PhysicsTables _tables;
    private readonly double[] _igneousCationShares;
    private readonly (double Cation, double Carbon)[] _carbonateRockShares;
    private readonly LineCatalog _catalog;
    private readonly ulong _seed;
    private readonly double _labelSystematicFraction;
    private readonly ConcurrentBag<Workspace> _pool = [];

    private readonly double[] _lineEnergy;
    private readonly int[] _lineFirstBin;
    private readonly bool[] _lineExcitable;
    private readonly int[] _lineElementIndex;
    private readonly int[] _elementAbsorber;
    private readonly float[][] _rayleighGrid; // [absorber][angle*600 + bin]
    private readonly float[][] _comptonGrid;
    private readonly int[][] _anodeLinesByAnode;
    private readonly double[] _gridPow167;
    private readonly int[] _anodeLineCatalogIndex;
    private readonly string[] _pureCandidates;
    private readonly string[] _mixtureCandidates;
    private readonly double _siKaPhoto;
    private readonly int _siAbsorber;
    private readonly int _beAbsorber;
    private readonly int _heAbsorber;
    private readonly int _airAbsorber;
    private readonly int _argonElement;
    // Foreign (non-catalogue) elements: symbols, their line rows in the foreign tables, and each line's first grid bin
    // with a non-zero cross-section (as _lineFirstBin for catalogue lines).
    private readonly string[] _foreignSymbols;
    private readonly int[][] _foreignLinesByElement;
    private readonly int[] _foreignFirstBin;

    /// <summary>
    /// Relative systematic uncertainty ε of the background under a line, added to the Poisson term of the label's
    /// detection limit: L_D = 2.71 + 4.65·sqrt(B + (ε·B)²). 0 (the default) is Currie's Poisson-only limit of issue 3.
    /// With ε > 0 a line under a large background must also stand out by ≈ 4.65·ε of it, as on a real instrument
    /// whose peak shapes, escape and pile-up structure are known to a few per cent: at 1e7 counts the Poisson-only
    /// limit calls lines detectable at a few per mille of a neighbouring major peak. Usual range 0–0.05.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, above 0.5, or not a number.</exception>
    public double LabelSystematicFraction
    {
        get => _labelSystematicFraction;
        init
        {
            if (!(value >= 0 && value <= 0.5))
            {
                throw new ArgumentOutOfRangeException(nameof(LabelSystematicFraction), value, "the label's systematic background fraction must be between 0 and 0.5");
            }

            _labelSystematicFraction = value;
        }
    }

    /// <summary>Creates a generator drawing from <paramref name="profile"/> with the random seed <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The profile is invalid.</exception>
    public SpectrumGenerator(GeneratorProfile profile, ulong seed)
        : this(profile, seed, PhysicsTables.Default, LineCatalog.Default)
    {
    }

    internal SpectrumGenerator(GeneratorProfile profile, ulong seed, PhysicsTables tables, LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var problems = profile.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"profile {profile.Name} is invalid: {string.Join("; ", problems)}", nameof(profile));
        }

        if (tables.CheckAgainst(catalog) is { } mismatch)
        {
            throw new ArgumentException(mismatch, nameof(tables));
        }

        Profile = profile;
        _seed = seed;
        _tables = tables;
        _igneousCationShares = Matrices.IgneousCationShares(tables);
        _carbonateRockShares = Matrices.CarbonateRockShares(tables);
        _catalog = catalog;

        var lines = catalog.Lines;
        _lineEnergy = lines.Select(l => l.EnergyKeV).ToArray();
        _lineElementIndex = lines.Select(l => catalog.ElementIndex(l.Element)).ToArray();
        _lineFirstBin = new int[lines.Count];
        _lineExcitable = new bool[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            var xs = tables.LineCrossSection(i);
            var first = xs.IndexOfAnyExcept(0f);
            _lineFirstBin[i] = first < 0 ? PhysicsTables.GridCount : first;
            _lineExcitable[i] = first >= 0;
        }

        _elementAbsorber = catalog.Elements.Select(e => tables.AbsorberIndex(e.Symbol)).ToArray();
        var angles = PhysicsTables.ScatterAnglesDegrees;
        _rayleighGrid = new float[tables.Absorbers.Count][];
        _comptonGrid = new float[tables.Absorbers.Count][];
        for (var a = 0; a < tables.Absorbers.Count; a++)
        {
            _rayleighGrid[a] = new float[angles.Count * PhysicsTables.GridCount];
            _comptonGrid[a] = new float[angles.Count * PhysicsTables.GridCount];
            for (var j = 0; j < angles.Count; j++)
            {
                for (var k = 0; k < PhysicsTables.GridCount; k++)
                {
                    var e = PhysicsTables.GridCentreKeV(k);
                    _rayleighGrid[a][(j * PhysicsTables.GridCount) + k] = (float)tables.RayleighDifferential(a, e, angles[j]);
                    _comptonGrid[a][(j * PhysicsTables.GridCount) + k] = (float)tables.ComptonDifferential(a, e, angles[j]);
                }
            }
        }

        _gridPow167 = Enumerable.Range(0, PhysicsTables.GridCount).Select(k => Math.Pow(PhysicsTables.GridCentreKeV(k), 1.67)).ToArray();
        _anodeLinesByAnode = AnodeSymbols.Select(a => tables.AnodeLines.Where(l => l.Anode == a).Select(l => l.Index).ToArray()).ToArray();
        _anodeLineCatalogIndex = tables.AnodeLines.Select(l => catalog.TryGetLine(l.Name, out var cl) ? cl.Index : -1).ToArray();

        // Pure standards are solids; O, F, Cl, Ar, Br are not plausible as pure-element samples.
        _pureCandidates = catalog.Elements.Select(e => e.Symbol).Where(s => s is not ("O" or "F" or "Cl" or "Ar" or "Br")).ToArray();
        // O arrives with matrices; Ar is an air constituent, never a sample element here.
        _mixtureCandidates = catalog.Elements.Select(e => e.Symbol).Where(s => s is not ("O" or "Ar")).ToArray();
        _siAbsorber = tables.AbsorberIndex("Si");
        _beAbsorber = tables.AbsorberIndex("Be");
        _heAbsorber = tables.AbsorberIndex("He");
        _airAbsorber = tables.AbsorberIndex("Air");
        _argonElement = catalog.ElementIndex("Ar");
        _siKaPhoto = tables.Photoabsorption(_siAbsorber, SiKaKeV);
        _foreignSymbols = profile.ForeignElements?.Elements?.ToArray()
            ?? tables.ForeignLines.Select(l => l.Element).Distinct(StringComparer.Ordinal).ToArray();
        _foreignLinesByElement = _foreignSymbols
            .Select(sym => tables.ForeignLines.Where(l => l.Element == sym).Select(l => l.Index).ToArray()).ToArray();
        _foreignFirstBin = tables.ForeignLines.Select(l =>
        {
            var first = tables.ForeignLineCrossSection(l.Index).IndexOfAnyExcept(0f);
            return first < 0 ? PhysicsTables.GridCount : first;
        }).ToArray();
    }

    /// <summary>The profile the generator draws from.</summary>
    public GeneratorProfile Profile { get; }

    /// <summary>The seed.</summary>
    public ulong Seed => _seed;

    /// <summary>Generates spectrum number <paramref name="index"/> (≥ 0) of this (profile, seed) stream.</summary>
    public SyntheticSpectrum Generate(long index)
    {
        var ws = Rent();
        try
        {
            Simulate(index, ws);
            return Snapshot(index, ws);
        }
        finally
        {
            _pool.Add(ws);
        }
    }

    internal Workspace Rent() => _pool.TryTake(out var ws) ? ws : new Workspace(_catalog.Lines.Count, _catalog.Elements.Count);

    internal void Return(Workspace ws) => _pool.Add(ws);

    /// <summary>Generates spectrum <paramref name="index"/> into <paramref name="ws"/> (counts, calibration, labels).</summary>
    internal void Simulate(long index, Workspace ws)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var rng = new Rng(_seed, index);
        var p = Profile;

        // ---- Instrument ----
        var anode = Choose(ref rng, p.Anodes).Value;
        ws.Anode = anode;
        ws.AnodeAbsorber = _tables.AbsorberIndex(anode);
        var kv = Math.Round(Draw(ref rng, p.TubeVoltageKilovolts));
        ws.TubeVoltageKilovolts = kv;
        ws.TubeCurrentMicroamperes = Draw(ref rng, p.TubeCurrentMicroamperes);
        var tubeBeCm = Draw(ref rng, p.TubeBeWindowMicrometres) * 1e-4;
        var tubeTakeoff = Draw(ref rng, p.TubeTakeoffDegrees) * Math.PI / 180;
        var lineScale = Draw(ref rng, p.AnodeLineScale);
        var filter = Choose(ref rng, p.Filters);
        var filterAbsorber = filter.Element is null ? -1 : _tables.AbsorberIndex(filter.Element);
        var filterMass = 0.0;
        ws.Filter = "none";
        if (filterAbsorber >= 0 && _tables.TryGetElement(filter.Element!, out var filterElement))
        {
            var um = Draw(ref rng, filter.ThicknessMicrometres ?? ValueRange.Fixed(0));
            filterMass = filterElement.DensityGramsPerCubicCentimetre * um * 1e-4;
            ws.Filter = string.Create(CultureInfo.InvariantCulture, $"{filter.Element} {um:0} µm");
        }

        ws.Monochromatic = rng.Chance(p.MonochromaticProbability);
        var incidence = Draw(ref rng, p.IncidenceDegrees) * Math.PI / 180;
        var takeoff = Draw(ref rng, p.TakeoffDegrees) * Math.PI / 180;
        var theta = p.ScatterAngleDegrees is { } angle
            ? Draw(ref rng, angle)
            : Math.Clamp(180 - ((incidence + takeoff) * 180 / Math.PI), 90, 150);
        ws.ScatterAngleDegrees = theta;
        var geometry = Math.Sin(incidence) / Math.Sin(takeoff);
        var path = Choose(ref rng, p.Paths);
        ws.Path = path.Medium;
        var pathCm = path.Medium == "vacuum" ? 0 : Draw(ref rng, path.LengthMillimetres ?? ValueRange.Fixed(0)) * 0.1;
        ws.PathLengthMillimetres = pathCm * 10;
        var pathAbsorber = path.Medium switch { "air" => _airAbsorber, "helium" => _heAbsorber, _ => -1 };
        var pathMass = path.Medium switch { "air" => AirDensity * pathCm, "helium" => HeliumDensity * pathCm, _ => 0 };

        var det = Choose(ref rng, p.Detectors);
        ws.Detector = det.Kind;
        var fwhmMn = Draw(ref rng, det.FwhmMnKaElectronvolts) / 1000;
        ws.FwhmMnKaElectronvolts = fwhmMn * 1000;
        var fano = FwhmPerSigma * FwhmPerSigma * FanoFactor * PairEnergyKeV;
        var noise2 = Math.Max(0, (fwhmMn * fwhmMn) - (fano * MnKaKeV));
        var detBeCm = Draw(ref rng, det.BeWindowMicrometres) * 1e-4;
        var deadCm = Draw(ref rng, det.DeadLayerMicrometres) * 1e-4;
        var siCm = Draw(ref rng, det.ThicknessMicrometres) * 1e-4;
        var tail = Draw(ref rng, det.TailFraction);
        var shelf = Draw(ref rng, det.ShelfFraction);
        var resolvingS = Draw(ref rng, det.PileupResolvingTimeNanoseconds) * 1e-9;
        var lld = Draw(ref rng, det.LowerThresholdKeV);
        var zeroFraction = rng.Chance(det.ZeroPeakProbability) ? Draw(ref rng, det.ZeroPeakFraction) : 0;
        var siliconPeak = det.SiliconPeakFraction is { } siRange ? Draw(ref rng, siRange) : 0;
        var polycapillaryCutoff = rng.Chance(p.PolycapillaryProbability) ? Draw(ref rng, p.PolycapillaryCutoffKeV) : double.PositiveInfinity;

        var mca = p.Mca;
        var n = mca.ChannelCounts[rng.Next(mca.ChannelCounts.Count)];
        var fullScale = Draw(ref rng, mca.FullScaleKeV);
        var offset = Draw(ref rng, mca.OffsetKeV);
        var quad = Draw(ref rng, mca.QuadraticShareOfFullScale) * fullScale / ((double)(n - 1) * (n - 1));
        var gain = (fullScale - offset - (quad * (n - 1) * (n - 1))) / (n - 1);
        var trueCal = new EnergyCalibration(offset, gain, quad);
        if (trueCal.Validate(n) is not null)
        {
            trueCal = new EnergyCalibration(offset, (fullScale - offset) / (n - 1));
        }

        var reported = new EnergyCalibration(
            trueCal.OffsetKeV + Draw(ref rng, mca.OffsetErrorKeV),
            trueCal.GainKeVPerChannel * (1 + Draw(ref rng, mca.GainErrorRelative)),
            trueCal.QuadraticKeVPerChannel2);
        ws.TrueCalibration = trueCal;
        ws.ReportedCalibration = reported.Validate(n) is null ? reported : trueCal;
        ws.ChannelCount = n;
        ws.LiveTimeSeconds = Draw(ref rng, p.LiveTimeSeconds);
        ws.CountRate = Draw(ref rng, p.CountRateCountsPerSecond);
        var totalCounts = ws.CountRate * ws.LiveTimeSeconds;
        ws.ExpectedTotal = totalCounts;

        // ---- Sample ----
        DrawSample(ref rng, ws);

        // ---- Primary spectrum (photons per 0.1-keV bin per electron, 4π, after window, filter and path) ----
        var kvBin = Math.Min(PhysicsTables.GridCount, (int)Math.Ceiling((kv / PhysicsTables.GridStepKeV) - 0.5));
        // Effects added after generator 1.0 draw from a second stream per spectrum, so a profile without them gives
        // exactly the spectra it gave before they existed: anode L-line scale, escape correction, low-energy
        // background, diffraction (in that order).
        var aux = new Rng(_seed ^ AuxiliaryStream, index);
        var lLineScale = p.AnodeLLineScale is { } lRange ? Draw(ref aux, lRange) : 1;
        BuildPrimary(ws, kv, kvBin, tubeBeCm, tubeTakeoff, lineScale, lLineScale, filterAbsorber, filterMass, pathAbsorber, pathMass);
        if (double.IsFinite(polycapillaryCutoff))
        {
            ApplyPolycapillary(ws, polycapillaryCutoff, kvBin);
        }

        // ---- Sample attenuation and scatter cross-sections on the grid ----
        var angleX = Math.Clamp((theta - 90) / 30, 0, 1.999999);
        var ai = (int)angleX;
        var af = angleX - ai;
        var muS = ws.SampleMu;
        Array.Clear(muS);
        Array.Clear(ws.SampleRayleigh);
        Array.Clear(ws.SampleCompton);
        for (var c = 0; c < ws.ComponentCount; c++)
        {
            var a = ws.ComponentAbsorber[c];
            var w = ws.ComponentFraction[c];
            var mu = _tables.MassAttenuation(a);
            var r = _rayleighGrid[a];
            var cp = _comptonGrid[a];
            var o0 = ai * PhysicsTables.GridCount;
            var o1 = o0 + PhysicsTables.GridCount;
            for (var k = 0; k < kvBin; k++)
            {
                muS[k] += (float)(w * mu[k]);
                ws.SampleRayleigh[k] += w * (r[o0 + k] + ((r[o1 + k] - r[o0 + k]) * af));
                ws.SampleCompton[k] += w * (cp[o0 + k] + ((cp[o1 + k] - cp[o0 + k]) * af));
            }
        }

        for (var t = 0; t < ws.TubeLineCount; t++)
        {
            double m = 0;
            for (var c = 0; c < ws.ComponentCount; c++)
            {
                m += ws.ComponentFraction[c] * _tables.MassAttenuationAtAnodeLine(ws.ComponentAbsorber[c], ws.TubeLine[t]);
            }

            ws.TubeSampleMu[t] = m;
        }

        // ---- Detection factor on the grid: path out × detector window × dead layer × absorption in the active Si ----
        var beMu = _tables.MassAttenuation(_beAbsorber);
        var siMu = _tables.MassAttenuation(_siAbsorber);
        var siPhoto = _tables.Photoabsorption(_siAbsorber);
        var pathMu = pathAbsorber >= 0 ? _tables.MassAttenuation(pathAbsorber) : default;
        for (var k = 0; k < PhysicsTables.GridCount; k++)
        {
            var exponent = (beMu[k] * BerylliumDensity * detBeCm) + (siMu[k] * SiliconDensity * deadCm);
            if (pathAbsorber >= 0)
            {
                exponent += pathMu[k] * pathMass;
            }

            ws.Detection[k] = Math.Exp(-exponent) * -double.ExpM1(-siPhoto[k] * SiliconDensity * siCm);
        }

        // ---- Fluorescence (per catalogue line) ----
        Array.Clear(ws.LineArea);
        var thin = ws.ThinMassThickness;
        // Finite thickness: the depth factor (1 − e^(−μΣ·m/sinα))/μΣ between the thin (m/sinα) and thick (1/μΣ) limits.
        var finiteDepth = ws.FiniteMassThickness is { } finiteMass ? finiteMass / Math.Sin(incidence) : double.PositiveInfinity;
        double Depth(double muSum) => double.IsPositiveInfinity(finiteDepth) ? 1 / muSum : -double.ExpM1(-muSum * finiteDepth) / muSum;
        var sinIncidence = Math.Sin(incidence);
        // Line photons per unit mass fraction (4π, before detection) excited by the primary continuum and the tube lines,
        // for a thin, finite or thick sample: xsGrid is the line's production cross-section on the grid, first its first
        // non-zero bin, muLine the sample's μ at the line energy; index is a catalogue line, or a foreign line if foreign.
        double Excited(ReadOnlySpan<float> xsGrid, int first, double muLine, bool foreign, int index)
        {
            var sum = thin is { } mass
                ? ThinIntegral(ws.Primary, xsGrid, first, kvBin) * mass / sinIncidence
                : double.IsPositiveInfinity(finiteDepth)
                    ? ThickIntegral(ws.Primary, xsGrid, muS, (float)(muLine * geometry), first, kvBin)
                    : FiniteIntegral(ws.Primary, xsGrid, muS, muLine * geometry, finiteDepth, first, kvBin);
            for (var t = 0; t < ws.TubeLineCount; t++)
            {
                var xs = foreign
                    ? _tables.ForeignLineCrossSectionAtAnodeLine(index, ws.TubeLine[t])
                    : _tables.LineCrossSectionAtAnodeLine(index, ws.TubeLine[t]);
                if (xs > 0)
                {
                    sum += ws.TubePhotons[t] * xs * (thin is { } m2 ? m2 / sinIncidence : Depth(ws.TubeSampleMu[t] + (muLine * geometry)));
                }
            }

            return sum;
        }

        for (var c = 0; c < ws.ComponentCount; c++)
        {
            var element = ElementOfAbsorber(ws.ComponentAbsorber[c]);
            if (element < 0)
            {
                continue;
            }

            var w = ws.ComponentFraction[c];
            foreach (var line in _catalog.LinesByElement[element])
            {
                var i = line.Index;
                if (!_lineExcitable[i] || _lineFirstBin[i] >= kvBin)
                {
                    continue;
                }

                var muLine = 0.0;
                for (var q = 0; q < ws.ComponentCount; q++)
                {
                    muLine += ws.ComponentFraction[q] * _tables.MassAttenuationAtLine(ws.ComponentAbsorber[q], i);
                }

                ws.LineArea[i] += w * Excited(_tables.LineCrossSection(i), _lineFirstBin[i], muLine, foreign: false, i) / FourPi * DetectionAt(ws, _lineEnergy[i]);
            }
        }

        // Ar fluorescence of the air in the beam path (about half the path is seen by the detector).
        if (path.Medium == "air" && _argonElement >= 0)
        {
            foreach (var line in _catalog.LinesByElement[_argonElement])
            {
                var i = line.Index;
                if (_lineExcitable[i] && _lineFirstBin[i] < kvBin)
                {
                    var sum = ThinIntegral(ws.Primary, _tables.LineCrossSection(i), _lineFirstBin[i], kvBin);
                    ws.LineArea[i] += sum * ArgonInAir * AirDensity * pathCm * 0.5 / FourPi * DetectionAt(ws, _lineEnergy[i]);
                }
            }
        }

        // ---- Scatter of the continuum (onto the grid) and of the tube lines (as peaks) ----
        var cont = ws.Continuum;
        Array.Clear(cont);
        Array.Clear(ws.ShelfStep);
        for (var k = 0; k < kvBin; k++)
        {
            double n0 = ws.Primary[k];
            if (!(n0 > 0) || !(muS[k] > 0))
            {
                continue;
            }

            var e = PhysicsTables.GridCentreKeV(k);
            var absorb = thin is { } m ? m / sinIncidence : Depth(muS[k] * (1 + geometry));
            cont[k] += n0 * ws.SampleRayleigh[k] * absorb * ws.Detection[k];
            var ec = PhysicsTables.ComptonEnergyKeV(e, theta);
            var x = (ec / PhysicsTables.GridStepKeV) - 0.5;
            var kc = Math.Max(0, (int)x);
            var fc = Math.Clamp(x - kc, 0, 1);
            var muC = muS[kc] + ((muS[Math.Min(kc + 1, PhysicsTables.GridCount - 1)] - muS[kc]) * fc);
            var absorbC = thin is { } m3 ? m3 / sinIncidence : Depth(muS[k] + (muC * geometry));
            var compton = n0 * ws.SampleCompton[k] * absorbC * ws.Detection[kc];
            cont[kc] += compton * (1 - fc);
            cont[kc + 1] += compton * fc;
        }

        ws.PeakCount = 0;
        for (var t = 0; t < ws.TubeLineCount; t++)
        {
            var al = _tables.AnodeLines[ws.TubeLine[t]];
            var e = al.EnergyKeV;
            var muT = ws.TubeSampleMu[t];
            var dsR = GridValue(ws.SampleRayleigh, e);
            var dsC = GridValue(ws.SampleCompton, e);
            var ec = PhysicsTables.ComptonEnergyKeV(e, theta);
            var muC = GridValue(muS, ec);
            var rayleigh = ws.TubePhotons[t] * dsR * (thin is { } m ? m / sinIncidence : Depth(muT * (1 + geometry))) * DetectionAt(ws, e);
            var compton = ws.TubePhotons[t] * dsC * (thin is { } m4 ? m4 / sinIncidence : Depth(muT + (muC * geometry))) * DetectionAt(ws, ec);
            var catalogueIndex = _anodeLineCatalogIndex[al.Index];
            if (catalogueIndex >= 0)
            {
                // The scattered anode line is that element's line as the spectrum shows it: labelled like fluorescence.
                ws.LineArea[catalogueIndex] += rayleigh;
            }
            else
            {
                AddPeak(ws, e, rayleigh, 0);
            }

            // Doppler broadening of Compton peaks: FWHM ≈ 0.042·E′·sin(θ/2) (≈ 0.6 keV for Rh Kα at 90°,
            // as measured on light matrices; an empirical stand-in for the Compton profile).
            var doppler = 0.042 * ec * Math.Sin(theta * Math.PI / 360) / FwhmPerSigma;
            AddPeak(ws, ec, compton, doppler);
        }

        for (var i = 0; i < ws.LineArea.Length; i++)
        {
            if (ws.LineArea[i] > 0)
            {
                AddPeak(ws, _lineEnergy[i], ws.LineArea[i], 0);
            }
        }

        // ---- Escape-peak correction, low-energy background and Bragg diffraction (second stream, see above) ----
        ws.EscapeScale = det.EscapePeakScale is { } escapeRange ? Draw(ref aux, escapeRange) : 1;
        ws.LowEnergyLevel = 0;
        if (det.LowEnergyBackground is { } low)
        {
            ws.LowEnergyLevel = Draw(ref aux, low.LevelPerKeV);
            ws.LowEnergyKneeKeV = Draw(ref aux, low.KneeKeV);
            ws.LowEnergyWidthKeV = Draw(ref aux, low.WidthKeV);
        }

        ws.DiffractionPeaks = 0;
        if (p.Diffraction is { } diffraction && thin is null && ws.SampleKind != "blank" && aux.Chance(diffraction.Probability))
        {
            DrawDiffraction(ref aux, ws, diffraction, theta, kvBin);
        }

        // Foreign elements (opt-in profile option, same stream after diffraction): their lines with the catalogue lines'
        // physics, added as unlabelled peaks before the scaling to counts, so escape, tails and pile-up treat them alike.
        ws.ForeignCount = 0;
        if (p.ForeignElements is { } foreign && aux.Chance(foreign.Probability))
        {
            var count = Math.Clamp((int)Math.Round(Draw(ref aux, foreign.Count)), 1, Math.Min(Workspace.MaxForeignElements, _foreignSymbols.Length));
            while (ws.ForeignCount < count)
            {
                var pick = aux.Next(_foreignSymbols.Length);
                if (ws.ForeignElement.AsSpan(0, ws.ForeignCount).Contains(pick))
                {
                    continue;
                }

                ws.ForeignElement[ws.ForeignCount] = pick;
                ws.ForeignFraction[ws.ForeignCount] = Draw(ref aux, foreign.MassFraction);
                ws.ForeignCount++;
            }

            for (var f = 0; f < ws.ForeignCount; f++)
            {
                var w = ws.ForeignFraction[f];
                foreach (var j in _foreignLinesByElement[ws.ForeignElement[f]])
                {
                    var first = _foreignFirstBin[j];
                    if (first >= kvBin)
                    {
                        continue;
                    }

                    var muLine = 0.0;
                    for (var q = 0; q < ws.ComponentCount; q++)
                    {
                        muLine += ws.ComponentFraction[q] * _tables.MassAttenuationAtForeignLine(ws.ComponentAbsorber[q], j);
                    }

                    var energy = _tables.ForeignLines[j].EnergyKeV;
                    AddPeak(ws, energy, w * Excited(_tables.ForeignLineCrossSection(j), first, muLine, foreign: true, j) / FourPi * DetectionAt(ws, energy), 0);
                }
            }
        }

        // ---- Relative → counts: every physical contribution is scaled together ----
        double relative = 0;
        for (var k = 0; k < cont.Length; k++)
        {
            relative += cont[k];
        }

        for (var q = 0; q < ws.PeakCount; q++)
        {
            relative += ws.PeakArea[q];
        }

        if (!(relative > 0))
        {
            relative = 1;
        }

        var physicsCounts = totalCounts * (1 - zeroFraction);
        var scale = physicsCounts / relative;
        for (var k = 0; k < cont.Length; k++)
        {
            cont[k] *= scale;
        }

        for (var q = 0; q < ws.PeakCount; q++)
        {
            ws.PeakArea[q] *= scale;
        }

        for (var i = 0; i < ws.LineArea.Length; i++)
        {
            ws.LineArea[i] *= scale;
        }

        if (siliconPeak > 0)
        {
            AddPeak(ws, SiKaKeV, siliconPeak * physicsCounts, 0);
        }

        // Pile-up: pairs of the strongest peaks sum with probability rate × resolving time.
        AddPileup(ws, ws.CountRate * resolvingS, physicsCounts);

        // ---- Detector response and MCA rendering ----
        var expected = ws.Expected.AsSpan(0, n);
        expected.Clear();
        Array.Clear(ws.LineGaussianArea);
        // Peaks under 0.02 expected counts change no channel noticeably; skipping them bounds the rendering cost.
        const double minPeak = 0.02;
        var peakCount = ws.PeakCount;
        for (var q = 0; q < peakCount; q++)
        {
            var area = ws.PeakArea[q];
            if (area < minPeak)
            {
                continue;
            }

            var e = ws.PeakEnergy[q];
            var sigma = Math.Sqrt(Sigma2(noise2, fano, e) + (ws.PeakSigma[q] * ws.PeakSigma[q]));
            var escape = EscapeFraction(e) * ws.EscapeScale;
            if (escape * area >= minPeak)
            {
                var escE = e - SiKaKeV;
                RenderPeak(expected, trueCal, escE, area * escape, Math.Sqrt(Sigma2(noise2, fano, escE) + (ws.PeakSigma[q] * ws.PeakSigma[q])), 0, 0, ws);
                area *= 1 - escape;
            }

            RenderPeak(expected, trueCal, e, area, sigma, tail, shelf, ws);
        }

        for (var i = 0; i < ws.LineArea.Length; i++)
        {
            if (ws.LineArea[i] > 0)
            {
                ws.LineGaussianArea[i] = ws.LineArea[i] * (1 - (EscapeFraction(_lineEnergy[i]) * ws.EscapeScale)) * (1 - tail - shelf);
            }
        }

        RenderContinuum(expected, trueCal, ws);
        RenderLowEnergyBackground(expected, trueCal, ws);
        RenderDiffraction(expected, trueCal, ws, noise2, fano, tail);

        // LLD: nothing below the threshold is counted.
        for (var ch = 0; ch < n; ch++)
        {
            if (trueCal.EnergyKeV(ch + 0.5) > lld)
            {
                break;
            }

            expected[ch] = 0;
        }

        if (zeroFraction > 0)
        {
            RenderPeak(expected, trueCal, 0, totalCounts * zeroFraction, Math.Sqrt(noise2) / FwhmPerSigma, 0, 0, null);
        }

        // ---- Labels on the expected (noise-free) spectrum ----
        Label(ws, expected, trueCal, noise2, fano, lld);

        // ---- Counting statistics ----
        var counts = ws.Counts.AsSpan(0, n);
        for (var ch = 0; ch < n; ch++)
        {
            counts[ch] = Poisson.Sample(ref rng, expected[ch]);
        }

    }

    /// <summary>
    /// Draws the Bragg reflections of one random polycrystalline lattice: E = hc / (2·d_hkl·sin θ_B), θ_B = half the
    /// scattering angle. Reflections follow the lattice's extinction rules; each gets a random texture factor (rolled
    /// metals and coarse grains make a few reflections dominate) and a form-factor fall-off exp(−(s/0.5 Å⁻¹)²),
    /// s = 1/(2d). The angular spread widens every peak by E·cot θ_B·σ_θ. Reflections with s above 0.75 Å⁻¹ (weak, and
    /// beyond what the real spectra show) and energies below 1 keV are left out. Heights are set when rendering
    /// (<see cref="RenderDiffraction"/>).
    /// </summary>
    private static void DrawDiffraction(ref Rng rng, Workspace ws, DiffractionOptions options, double scatterDegrees, int kvBin)
    {
        const double HcKeVAngstrom = 12.398419843;     // h·c, keV·Å (CODATA 2018)
        const double MaxSPerAngstrom = 0.75;           // s = 1/(2d) cut: reflections above are weak and absent in the NIST files
        const double FormFactorWidthPerAngstrom = 0.5; // atomic form factors fall to ~1/e of f(0) by s ≈ 0.5 Å⁻¹ (light-to-mid Z)
        const double MinTextureFactor = 0.003;         // weakest reflection relative to the strongest before the form factor
        const double MinEnergyKeV = 1.0;               // below, the window and the LLD leave nothing to see
        var thetaB = scatterDegrees * Math.PI / 360;
        var sinB = Math.Sin(thetaB);
        var cotB = Math.Cos(thetaB) / sinB;
        var spread = Draw(ref rng, options.AngularSpreadDegrees) * Math.PI / 180;
        var a = Draw(ref rng, options.LatticeParameterAngstroms);
        var lattice = (Lattice)rng.Next(6);
        var c = lattice switch
        {
            Lattice.Hexagonal => a * rng.Uniform(1.55, 1.65),
            Lattice.Tetragonal => a * rng.Uniform(0.5, 1.5),
            _ => a,
        };
        ws.DiffractionStrength = Draw(ref rng, options.PeakToContinuum);
        var eMax = kvBin * PhysicsTables.GridStepKeV;
        var dMin = Math.Max(HcKeVAngstrom / (2 * eMax * sinB), 1 / (2 * MaxSPerAngstrom));
        var dMax = HcKeVAngstrom / (2 * MinEnergyKeV * sinB);
        var hMax = (int)Math.Floor(Math.Max(a, c) / dMin);
        var count = 0;
        var maxWeight = 0.0;
        for (var h = 0; h <= hMax; h++)
        {
            for (var k = 0; k <= h; k++)
            {
                for (var l = 0; l <= (lattice is Lattice.Hexagonal or Lattice.Tetragonal ? hMax : k); l++)
                {
                    if ((h | k | l) == 0 || !Allowed(lattice, h, k, l))
                    {
                        continue;
                    }

                    var inverseD2 = lattice switch
                    {
                        Lattice.Hexagonal => (4.0 / 3 * ((h * h) + (h * k) + (k * k)) / (a * a)) + ((double)l * l / (c * c)),
                        Lattice.Tetragonal => (((double)h * h) + (k * k)) / (a * a) + ((double)l * l / (c * c)),
                        _ => (((double)h * h) + (k * k) + (l * l)) / (a * a),
                    };
                    var d = 1 / Math.Sqrt(inverseD2);
                    if (d < dMin || d > dMax || count >= Workspace.MaxReflections)
                    {
                        continue;
                    }

                    var s = 1 / (2 * d);
                    var formFactor = s / FormFactorWidthPerAngstrom;
                    var weight = Math.Exp(rng.Uniform(Math.Log(MinTextureFactor), 0)) * Math.Exp(-formFactor * formFactor);
                    var e = HcKeVAngstrom / (2 * d * sinB);
                    ws.ReflectionEnergy[count] = e;
                    ws.ReflectionWeight[count] = weight;
                    ws.ReflectionSigma[count] = e * cotB * spread;
                    maxWeight = Math.Max(maxWeight, weight);
                    count++;
                }
            }
        }

        for (var q = 0; q < count; q++)
        {
            ws.ReflectionWeight[q] /= maxWeight;
        }

        ws.DiffractionPeaks = count;
    }

    /// <summary>
    /// Renders the drawn reflections onto the expected spectrum (after everything else, so heights are set against
    /// what the detector shows): the strongest stands <see cref="DiffractionOptions.PeakToContinuum"/> times the local
    /// background above it — the smallest of the mean levels 0.3–0.6 and 0.6–1.0 keV either side, so neighbouring
    /// fluorescence peaks do not inflate it. Diffraction is scattered primary radiation, so it gets the detector's tail like any
    /// peak; its escape peaks and pile-up are left out (second-order on a peak this size).
    /// </summary>
    private static void RenderDiffraction(Span<double> expected, EnergyCalibration cal, Workspace ws, double noise2, double fano, double tail)
    {
        for (var q = 0; q < ws.DiffractionPeaks; q++)
        {
            var e = ws.ReflectionEnergy[q];
            var sigma = Math.Sqrt(Sigma2(noise2, fano, e) + (ws.ReflectionSigma[q] * ws.ReflectionSigma[q]));
            var background = Math.Min(
                Math.Min(MeanLevel(expected, cal, e - 1.0, e - 0.6), MeanLevel(expected, cal, e - 0.6, e - 0.3)),
                Math.Min(MeanLevel(expected, cal, e + 0.3, e + 0.6), MeanLevel(expected, cal, e + 0.6, e + 1.0)));
            if (!double.IsFinite(background) || !(background > 0))
            {
                continue;
            }

            var area = ws.DiffractionStrength * ws.ReflectionWeight[q] * background * Math.Sqrt(2 * Math.PI) * sigma;
            if (area >= 0.02)
            {
                RenderPeak(expected, cal, e, area, sigma, tail, 0, null);
            }
        }
    }

    /// <summary>
    /// The detector's low-energy background (<see cref="Profiles.LowEnergyBackgroundOption"/>): level × total counts per
    /// keV, flat up to the knee and rolling off as 1/(1 + e^((E − knee)/width)); the LLD cuts it below like everything.
    /// </summary>
    private static void RenderLowEnergyBackground(Span<double> expected, EnergyCalibration cal, Workspace ws)
    {
        if (!(ws.LowEnergyLevel > 0))
        {
            return;
        }

        var perKeV = ws.LowEnergyLevel * ws.ExpectedTotal;
        // 30 widths above the knee the Fermi factor is e^−30 ≈ 1e-13: nothing left to add.
        var stop = ws.LowEnergyKneeKeV + (30 * ws.LowEnergyWidthKeV);
        for (var ch = 0; ch < expected.Length; ch++)
        {
            var lo = cal.EnergyKeV(ch - 0.5);
            var hi = cal.EnergyKeV(ch + 0.5);
            if (hi <= 0)
            {
                continue;
            }

            var e = cal.EnergyKeV(ch);
            if (e > stop)
            {
                break;
            }

            expected[ch] += perKeV * (hi - Math.Max(lo, 0)) / (1 + Math.Exp((e - ws.LowEnergyKneeKeV) / ws.LowEnergyWidthKeV));
        }
    }

    /// <summary>Mean counts per keV of <paramref name="expected"/> over [lo, hi] keV; +∞ when the band is off the spectrum.</summary>
    private static double MeanLevel(ReadOnlySpan<double> expected, EnergyCalibration cal, double lo, double hi)
    {
        var x0 = cal.Channel(lo);
        var x1 = cal.Channel(hi);
        if (double.IsNaN(x0) || double.IsNaN(x1))
        {
            return double.PositiveInfinity;
        }

        var c0 = Math.Max(0, (int)Math.Ceiling(x0));
        var c1 = Math.Min(expected.Length - 1, (int)Math.Floor(x1));
        if (c1 < c0)
        {
            return double.PositiveInfinity;
        }

        double sum = 0;
        for (var ch = c0; ch <= c1; ch++)
        {
            sum += expected[ch];
        }

        return sum / (cal.EnergyKeV(c1 + 0.5) - cal.EnergyKeV(c0 - 0.5));
    }

    private enum Lattice
    {
        CubicPrimitive,
        CubicBodyCentred,
        CubicFaceCentred,
        Diamond,
        Hexagonal,
        Tetragonal,
    }

    /// <summary>Extinction rules: which (h k l) reflect for the lattice (hexagonal: the hcp rule, h − k = 3n with l odd is absent).</summary>
    private static bool Allowed(Lattice lattice, int h, int k, int l) => lattice switch
    {
        Lattice.CubicBodyCentred => (h + k + l) % 2 == 0,
        Lattice.CubicFaceCentred => h % 2 == k % 2 && k % 2 == l % 2,
        Lattice.Diamond => h % 2 == k % 2 && k % 2 == l % 2 && (h % 2 == 1 || (h + k + l) % 4 == 0),
        Lattice.Hexagonal => !((h - k) % 3 == 0 && l % 2 == 1),
        _ => true,
    };

    private int ElementOfAbsorber(int absorber) => absorber < _elementAbsorber.Length && _elementAbsorber[absorber] == absorber ? absorber : -1;

    private static double Sigma2(double noise2, double fano, double energyKeV) =>
        (noise2 + (fano * Math.Max(energyKeV, 0))) / (FwhmPerSigma * FwhmPerSigma);

    /// <summary>
    /// Probability that a photon of <paramref name="energyKeV"/> absorbed in Si loses a Si Kα photon (Reed &amp; Ware 1972,
    /// normal incidence): ½·ω_K·(1 − 1/r)·[1 − (μ_K/μ_I)·ln(1 + μ_I/μ_K)].
    /// </summary>
    internal double EscapeFraction(double energyKeV)
    {
        if (energyKeV <= SiKEdgeKeV)
        {
            return 0;
        }

        const double OmegaK = 0.047; // FluorYield(14, K_SHELL) = 0.047 (xraylib; elements.csv)
        var muI = _tables.Photoabsorption(_siAbsorber, energyKeV);
        var ratio = _siKaPhoto / muI;
        return 0.5 * OmegaK * (1 - (1 / SiJumpRatio)) * (1 - (ratio * Math.Log(1 + (1 / ratio))));
    }

    /// <summary>FWHM of the detector at <paramref name="energyKeV"/> for a resolution <paramref name="fwhmMnKaKeV"/> at Mn Kα, keV.</summary>
    public static double FwhmKeV(double fwhmMnKaKeV, double energyKeV)
    {
        var fano = FwhmPerSigma * FwhmPerSigma * FanoFactor * PairEnergyKeV;
        var noise2 = Math.Max(0, (fwhmMnKaKeV * fwhmMnKaKeV) - (fano * MnKaKeV));
        return Math.Sqrt(noise2 + (fano * energyKeV));
    }

    private static double DetectionAt(Workspace ws, double energyKeV) => GridValue(ws.Detection, energyKeV);

    private static double GridValue(ReadOnlySpan<double> grid, double energyKeV)
    {
        var x = Math.Clamp((energyKeV / PhysicsTables.GridStepKeV) - 0.5, 0, PhysicsTables.GridCount - 1.000001);
        var k = (int)x;
        return grid[k] + ((grid[k + 1] - grid[k]) * (x - k));
    }

    private static double GridValue(ReadOnlySpan<float> grid, double energyKeV)
    {
        var x = Math.Clamp((energyKeV / PhysicsTables.GridStepKeV) - 0.5, 0, PhysicsTables.GridCount - 1.000001);
        var k = (int)x;
        return grid[k] + ((grid[k + 1] - grid[k]) * (x - k));
    }

    private static void AddPeak(Workspace ws, double energyKeV, double area, double extraSigmaKeV)
    {
        if (!(area > 0) || ws.PeakCount >= Workspace.MaxPeaks)
        {
            return;
        }

        ws.PeakEnergy[ws.PeakCount] = energyKeV;
        ws.PeakArea[ws.PeakCount] = area;
        ws.PeakSigma[ws.PeakCount] = extraSigmaKeV;
        ws.PeakCount++;
    }

    /// <summary>Σ_k N0[k]·τ[k] / (μ_s[k] + c): the thick-target FP integral over grid bins [first, end).</summary>
    private static double ThickIntegral(ReadOnlySpan<float> primary, ReadOnlySpan<float> xs, ReadOnlySpan<float> mu, float c, int first, int end)
    {
        var k = first;
        var acc = Vector<float>.Zero;
        var vc = new Vector<float>(c);
        var width = Vector<float>.Count;
        for (; k <= end - width; k += width)
        {
            acc += new Vector<float>(primary[k..]) * new Vector<float>(xs[k..]) / (new Vector<float>(mu[k..]) + vc);
        }

        double sum = Vector.Sum(acc);
        for (; k < end; k++)
        {
            sum += primary[k] * xs[k] / (mu[k] + c);
        }

        return sum;
    }

    /// <summary>Σ_k N0[k]·τ[k]·(1 − e^(−(μ_s[k] + c)·d)) / (μ_s[k] + c): a sample of finite depth d = m/sinα.</summary>
    private static double FiniteIntegral(ReadOnlySpan<float> primary, ReadOnlySpan<float> xs, ReadOnlySpan<float> mu, double c, double depth, int first, int end)
    {
        var k = first;
        var acc = Vector<float>.Zero;
        var vc = new Vector<float>((float)c);
        var vd = new Vector<float>((float)-depth);
        var width = Vector<float>.Count;
        for (; k <= end - width; k += width)
        {
            var muSum = new Vector<float>(mu[k..]) + vc;
            acc += new Vector<float>(primary[k..]) * new Vector<float>(xs[k..]) * (Vector<float>.One - Vector.Exp(muSum * vd)) / muSum;
        }

        double sum = Vector.Sum(acc);
        for (; k < end; k++)
        {
            var muSum = mu[k] + c;
            var x = muSum * depth;
            sum += primary[k] * xs[k] * (x > 700 ? 1 : 1 - Poisson.ExpNegative(x)) / muSum;
        }

        return sum;
    }

    private static double ThinIntegral(ReadOnlySpan<float> primary, ReadOnlySpan<float> xs, int first, int end)
    {
        double sum = 0;
        for (var k = first; k < end; k++)
        {
            sum += primary[k] * xs[k];
        }

        return sum;
    }

    private void BuildPrimary(Workspace ws, double kv, int kvBin, double tubeBeCm, double tubeTakeoff, double lineScale, double lLineScale, int filterAbsorber, double filterMass, int pathAbsorber, double pathMass)
    {
        _tables.TryGetElement(ws.Anode, out var anode);
        var z = anode!.AtomicNumber;
        var sinTube = Math.Sin(tubeTakeoff);
        // Kanaya–Okayama electron range, g/cm²: ρR = 2.76e-6·A·E^1.67 / Z^0.89 (E in keV).
        var rangeFactor = 2.76e-6 * anode.AtomicWeight / Math.Pow(z, 0.89);
        var rangeE0 = rangeFactor * Math.Pow(kv, 1.67);
        var muAnode = _tables.MassAttenuation(ws.AnodeAbsorber);
        var muBe = _tables.MassAttenuation(_beAbsorber);
        var muFilter = filterAbsorber >= 0 ? _tables.MassAttenuation(filterAbsorber) : default;
        var muPath = pathAbsorber >= 0 ? _tables.MassAttenuation(pathAbsorber) : default;
        var primary = ws.Primary;
        Array.Clear(primary);
        var continuumShare = ws.Monochromatic ? 1e-3 : 1.0;
        for (var k = 0; k < kvBin; k++)
        {
            var e = PhysicsTables.GridCentreKeV(k);
            var kramers = KramersConstant * z * ((kv / e) - 1) * PhysicsTables.GridStepKeV;
            // Photons are made over the depth where electrons still exceed E; their mean escape through the anode
            // is (1 − e^(−χD))/(χD) with χ = μ/sin(take-off) and D ≈ 0.6 of that depth.
            var depth = 0.6 * (rangeE0 - (rangeFactor * _gridPow167[k]));
            var selfAbsorption = SelfAbsorption(muAnode[k] / sinTube * depth);
            var exponent = (muBe[k] * BerylliumDensity * tubeBeCm) + (filterAbsorber >= 0 ? muFilter[k] * filterMass : 0)
                + (pathAbsorber >= 0 ? muPath[k] * pathMass : 0);
            primary[k] = (float)(kramers * selfAbsorption * Math.Exp(-exponent) * continuumShare);
        }

        ws.TubeLineCount = 0;
        var anodeIndex = Array.IndexOf(AnodeSymbols, ws.Anode);
        var strongest = -1;
        var strongestPhotons = 0.0;
        foreach (var li in _anodeLinesByAnode[anodeIndex])
        {
            var line = _tables.AnodeLines[li];
            if (line.EdgeKeV >= kv || ws.TubeLineCount >= Workspace.MaxTubeLines)
            {
                continue;
            }

            var u0 = kv / line.EdgeKeV;
            var electrons = line.Shell == "L3" ? 4 : 2;
            var ionisations = IonisationConstant * electrons * ((u0 * Math.Log(u0)) - u0 + 1);
            var depth = 0.6 * (rangeE0 - (rangeFactor * Math.Pow(line.EdgeKeV, 1.67)));
            var selfAbsorption = SelfAbsorption(_tables.MassAttenuationAtAnodeLine(ws.AnodeAbsorber, li) / sinTube * depth);
            var exponent = (_tables.MassAttenuationAtAnodeLine(_beAbsorber, li) * BerylliumDensity * tubeBeCm)
                + (filterAbsorber >= 0 ? _tables.MassAttenuationAtAnodeLine(filterAbsorber, li) * filterMass : 0)
                + (pathAbsorber >= 0 ? _tables.MassAttenuationAtAnodeLine(pathAbsorber, li) * pathMass : 0);
            var photons = ionisations * line.FluorescenceYield * line.RadiativeRate * selfAbsorption * Math.Exp(-exponent) * lineScale
                * (line.Shell == "K" ? 1 : lLineScale);
            ws.TubeLine[ws.TubeLineCount] = li;
            ws.TubePhotons[ws.TubeLineCount] = photons;
            if (photons > strongestPhotons && (line.Shell == "K" || strongest < 0 || _tables.AnodeLines[ws.TubeLine[strongest]].Shell != "K"))
            {
                strongest = ws.TubeLineCount;
                strongestPhotons = photons;
            }

            ws.TubeLineCount++;
        }

        if (ws.Monochromatic && strongest >= 0)
        {
            ws.TubeLine[0] = ws.TubeLine[strongest];
            ws.TubePhotons[0] = ws.TubePhotons[strongest];
            ws.TubeLineCount = 1;
        }
    }

    /// <summary>Polycapillary transmission relative to low energies: 1 up to the cut-off, (E_c/E)² above (θ_c ∝ 1/E).</summary>
    private void ApplyPolycapillary(Workspace ws, double cutoffKeV, int kvBin)
    {
        for (var k = 0; k < kvBin; k++)
        {
            var e = PhysicsTables.GridCentreKeV(k);
            if (e > cutoffKeV)
            {
                ws.Primary[k] *= (float)(cutoffKeV * cutoffKeV / (e * e));
            }
        }

        for (var t = 0; t < ws.TubeLineCount; t++)
        {
            var e = _tables.AnodeLines[ws.TubeLine[t]].EnergyKeV;
            if (e > cutoffKeV)
            {
                ws.TubePhotons[t] *= cutoffKeV * cutoffKeV / (e * e);
            }
        }
    }

    private static double SelfAbsorption(double chiDepth) => chiDepth < 1e-9 ? 1 : -double.ExpM1(-chiDepth) / chiDepth;

    private void AddPileup(Workspace ws, double probability, double total)
    {
        if (probability <= 0 || total <= 0 || ws.PeakCount == 0)
        {
            return;
        }

        // Top few peaks by area (insertion into a small sorted buffer).
        Span<int> top = stackalloc int[6];
        var count = 0;
        for (var q = 0; q < ws.PeakCount; q++)
        {
            var a = ws.PeakArea[q];
            var pos = count;
            while (pos > 0 && ws.PeakArea[top[pos - 1]] < a)
            {
                pos--;
            }

            if (pos >= top.Length)
            {
                continue;
            }

            for (var s = Math.Min(count, top.Length - 1); s > pos; s--)
            {
                top[s] = top[s - 1];
            }

            top[pos] = q;
            count = Math.Min(count + 1, top.Length);
        }

        for (var i = 0; i < count; i++)
        {
            for (var j = i; j < count; j++)
            {
                var a = ws.PeakArea[top[i]];
                var b = ws.PeakArea[top[j]];
                var area = probability * a * b / total * (i == j ? 1 : 2);
                AddPeak(ws, ws.PeakEnergy[top[i]] + ws.PeakEnergy[top[j]], area, Math.Max(ws.PeakSigma[top[i]], ws.PeakSigma[top[j]]));
            }
        }
    }

    /// <summary>
    /// Adds a Gaussian of <paramref name="area"/> counts at <paramref name="energyKeV"/> (plus a low-energy exponential
    /// tail and a flat shelf) to the channels. The Gaussian is evaluated at channel centres by a multiplicative
    /// recurrence (three exp calls per peak) over ±4.5σ and normalised over the full window, so the area is exact
    /// even for channels wider than σ.
    /// </summary>
    private static void RenderPeak(Span<double> expected, EnergyCalibration cal, double energyKeV, double area, double sigmaKeV, double tail, double shelf, Workspace? ws)
    {
        var n = expected.Length;
        var centre = cal.Channel(energyKeV);
        if (double.IsNaN(centre))
        {
            return;
        }

        var localGain = cal.GainKeVPerChannel + (2 * cal.QuadraticKeVPerChannel2 * centre);
        var sigmaCh = sigmaKeV / localGain;
        // ±4.5σ holds all but 7e-6 of a Gaussian; the window sum renormalises the rest.
        var half = Math.Max(1, (int)Math.Ceiling(4.5 * sigmaCh));
        var first = (int)Math.Round(centre) - half;
        var last = (int)Math.Round(centre) + half;
        if (last < 0 || first >= n)
        {
            return;
        }

        var gaussArea = area * (1 - tail - shelf);
        var d = 1 / sigmaCh;
        var x0 = (first - centre) * d;
        var g = Math.Exp(-0.5 * x0 * x0);
        var r = Math.Exp(-((2 * x0 * d) + (d * d)) * 0.5);
        var rr = Math.Exp(-d * d);
        double norm = 0;
        var gg = g;
        var rk = r;
        for (var ch = first; ch <= last; ch++)
        {
            norm += gg;
            gg *= rk;
            rk *= rr;
        }

        var k = gaussArea / norm;
        for (var ch = first; ch <= last; ch++)
        {
            if ((uint)ch < (uint)n)
            {
                expected[ch] += k * g;
            }

            g *= r;
            r *= rr;
        }

        if (tail * area > 0.02)
        {
            // Exponential tail below the peak with a decay length of 2σ (incomplete charge collection).
            var lambdaCh = 2 * sigmaCh;
            var step = Math.Exp(-1 / lambdaCh);
            var amplitude = area * tail * (1 - step);
            var stop = Math.Max(0, (int)(centre - (6 * lambdaCh)));
            var v = amplitude;
            for (var ch = (int)Math.Floor(centre); ch >= stop; ch--)
            {
                if (ch < n)
                {
                    expected[ch] += v;
                }

                v *= step;
            }
        }

        if (shelf > 0 && ws is not null && energyKeV > 0)
        {
            // A flat shelf from 0 keV to the peak: accumulated as a step on the grid, integrated in RenderContinuum.
            var bin = Math.Min(PhysicsTables.GridCount, (int)(energyKeV / PhysicsTables.GridStepKeV));
            ws.ShelfStep[bin] += area * shelf / energyKeV * PhysicsTables.GridStepKeV;
        }
    }

    /// <summary>Maps the smooth continuum (grid, counts per 0.1 keV) and the shelf onto channels, smoothed by one grid bin.</summary>
    private static void RenderContinuum(Span<double> expected, EnergyCalibration cal, Workspace ws)
    {
        var grid = ws.Smoothed;
        var cont = ws.Continuum;
        var shelfLevel = 0.0;
        for (var k = PhysicsTables.GridCount; k >= 0; k--)
        {
            shelfLevel += ws.ShelfStep[k];
            var left = k > 0 ? cont[k - 1] : cont[k];
            var right = cont[Math.Min(k + 1, cont.Length - 1)];
            grid[k] = (0.25 * left) + (0.5 * cont[k]) + (0.25 * right) + shelfLevel;
        }

        var n = expected.Length;
        for (var ch = 0; ch < n; ch++)
        {
            var e = cal.EnergyKeV(ch);
            if (e <= 0)
            {
                continue;
            }

            var x = (e / PhysicsTables.GridStepKeV) - 0.5;
            if (x >= PhysicsTables.GridCount - 1)
            {
                break;
            }

            var k = Math.Max(0, (int)x);
            var f = Math.Max(0, x - k);
            var perBin = grid[k] + ((grid[k + 1] - grid[k]) * f);
            var width = cal.GainKeVPerChannel + (2 * cal.QuadraticKeVPerChannel2 * ch);
            expected[ch] += perBin * width / PhysicsTables.GridStepKeV;
        }
    }

    private void Label(Workspace ws, ReadOnlySpan<double> expected, EnergyCalibration cal, double noise2, double fano, double lld)
    {
        var n = expected.Length;
        var prefix = ws.Prefix;
        prefix[0] = 0;
        for (var ch = 0; ch < n; ch++)
        {
            prefix[ch + 1] = prefix[ch] + expected[ch];
        }

        Array.Clear(ws.Lines);
        Array.Clear(ws.Elements);
        Array.Clear(ws.LineNet);
        Array.Clear(ws.LineBackground);
        var lldChannel = Math.Max(0, (int)Math.Ceiling(cal.Channel(lld)));
        for (var i = 0; i < ws.LineGaussianArea.Length; i++)
        {
            // Every line gets its window's background (absent lines too: what a detector looking for it would see), so
            // training can recompute the labels at a lower count level (count thinning) and evaluation can build an
            // oracle detector (xrftrain.ceiling).
            var area = Math.Max(0, ws.LineGaussianArea[i]);
            var e = _lineEnergy[i];
            var sigma = Math.Sqrt(Sigma2(noise2, fano, e));
            var halfWindow = LabelWindowFwhm * FwhmPerSigma * sigma;
            var lo = Math.Max(lldChannel, (int)Math.Ceiling(cal.Channel(e - halfWindow)));
            var hi = Math.Min(n - 1, (int)Math.Floor(cal.Channel(e + halfWindow)));
            if (lo > hi)
            {
                continue;
            }

            var window = prefix[hi + 1] - prefix[lo];
            var own = area * (NormalCdf((cal.EnergyKeV(hi + 0.5) - e) / sigma) - NormalCdf((cal.EnergyKeV(lo - 0.5) - e) / sigma));
            var background = Math.Max(0, window - own);
            ws.LineNet[i] = (float)own;
            ws.LineBackground[i] = (float)background;
            if (area <= 0)
            {
                continue;
            }

            var systematic = _labelSystematicFraction * background;
            if (own >= 2.71 + (4.65 * Math.Sqrt(background + (systematic * systematic))))
            {
                ws.Lines[i] = 1;
                ws.Elements[_lineElementIndex[i]] = 1;
            }
        }

        for (var i = 0; i < ws.PaperLines.Length; i++)
        {
            ws.PaperLines[i] = ws.ElementsInSample[_lineElementIndex[i]];
        }

        // Ignore: the anode, Ar, and in-sample elements that no line makes visible.
        Array.Clear(ws.IgnoreElements);
        var anodeElement = _catalog.ElementIndex(ws.Anode);
        if (anodeElement >= 0)
        {
            ws.IgnoreElements[anodeElement] = 1;
        }

        if (_argonElement >= 0)
        {
            ws.IgnoreElements[_argonElement] = 1;
        }

        for (var e = 0; e < ws.ElementsInSample.Length; e++)
        {
            if (ws.ElementsInSample[e] == 1 && ws.Elements[e] == 0)
            {
                ws.IgnoreElements[e] = 1;
            }
        }
    }

    /// <summary>Standard normal CDF via erfc (Abramowitz &amp; Stegun 7.1.26, |error| ≤ 1.5e-7).</summary>
    internal static double NormalCdf(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + (0.3275911 * x));
        var y = t * (0.254829592 + (t * (-0.284496736 + (t * (1.421413741 + (t * (-1.453152027 + (t * 1.061405429))))))));
        var erfc = y * Math.Exp(-x * x);
        return z >= 0 ? 1 - (0.5 * erfc) : 0.5 * erfc;
    }

    private void DrawSample(ref Rng rng, Workspace ws)
    {
        var s = Profile.Samples;
        ws.ComponentCount = 0;
        Array.Clear(ws.ElementsInSample);
        var total = s.BlankWeight + s.PureWeight + s.AlloyWeight + s.MixtureWeight;
        var u = rng.NextDouble() * total;
        ws.ThinMassThickness = rng.Chance(s.ThinProbability) ? Draw(ref rng, s.ThinMassThicknessGramsPerSquareCentimetre) : null;
        ws.FiniteMassThickness = ws.ThinMassThickness is null && rng.Chance(s.FiniteProbability)
            ? Draw(ref rng, s.FiniteMassThicknessGramsPerSquareCentimetre ?? ValueRange.Fixed(1))
            : null;
        if (s.FixedComposition is { } fixedComposition)
        {
            ws.SampleKind = "fixed";
            ws.Matrix = "none";
            var sum = fixedComposition.Sum(e => e.MassFraction);
            foreach (var e in fixedComposition)
            {
                AddComponent(ws, e.Symbol, e.MassFraction / sum);
            }
        }
        else if (u < s.BlankWeight)
        {
            ws.SampleKind = "blank";
            ws.Matrix = Matrices.Blanks[rng.Next(Matrices.Blanks.Length)];
            AddMatrix(ref rng, ws, ws.Matrix, 1);
            AddTraces(ref rng, ws, s);
        }
        else if (u < s.BlankWeight + s.PureWeight)
        {
            ws.SampleKind = "pure";
            ws.Matrix = "none";
            var candidates = s.PureElements ?? _pureCandidates;
            AddComponent(ws, candidates[rng.Next(candidates.Count)], 1);
            AddTraces(ref rng, ws, s);
        }
        else if (u < s.BlankWeight + s.PureWeight + s.AlloyWeight)
        {
            ws.SampleKind = "alloy";
            ws.Matrix = "none";
            var bases = AlloyBases;
            var additions = AlloyAdditions;
            var baseElement = bases[rng.Next(bases.Length)];
            var count = 1 + rng.Next(5);
            var sum = 0.0;
            for (var i = 0; i < count; i++)
            {
                var add = additions[rng.Next(additions.Length)];
                if (add == baseElement)
                {
                    continue;
                }

                var w = Math.Exp(rng.Uniform(Math.Log(1e-4), Math.Log(0.25)));
                sum += w;
                AddComponent(ws, add, w);
            }

            if (sum > 0.5)
            {
                for (var c = 0; c < ws.ComponentCount; c++)
                {
                    ws.ComponentFraction[c] *= 0.5 / sum;
                }

                sum = 0.5;
            }

            AddComponent(ws, baseElement, 1 - sum);
        }
        else
        {
            ws.SampleKind = "mixture";
            ws.Matrix = Choose(ref rng, s.Matrices).Value;
            var count = (int)Math.Round(Draw(ref rng, s.ElementCount));
            var sum = 0.0;
            for (var i = 0; i < count; i++)
            {
                var w = Draw(ref rng, s.MassFraction);
                sum += w;
                AddComponent(ws, _mixtureCandidates[rng.Next(_mixtureCandidates.Length)], w);
            }

            if (ws.Matrix == "none")
            {
                for (var c = 0; c < ws.ComponentCount; c++)
                {
                    ws.ComponentFraction[c] /= sum;
                }
            }
            else
            {
                if (sum > 0.9)
                {
                    for (var c = 0; c < ws.ComponentCount; c++)
                    {
                        ws.ComponentFraction[c] *= 0.9 / sum;
                    }

                    sum = 0.9;
                }

                AddMatrix(ref rng, ws, ws.Matrix, 1 - sum);
            }
        }

        for (var c = 0; c < ws.ComponentCount; c++)
        {
            var e = ElementOfAbsorber(ws.ComponentAbsorber[c]);
            if (e >= 0 && ws.ComponentFraction[c] > 0)
            {
                ws.ElementsInSample[e] = 1;
            }
        }
    }

    private void AddTraces(ref Rng rng, Workspace ws, SampleOptions s)
    {
        if (!rng.Chance(s.TraceImpurityProbability))
        {
            return;
        }

        var count = 1 + rng.Next(3);
        var sum = 0.0;
        var start = ws.ComponentCount;
        for (var i = 0; i < count; i++)
        {
            var w = Math.Exp(rng.Uniform(Math.Log(1e-6), Math.Log(5e-3)));
            sum += w;
            AddComponent(ws, _mixtureCandidates[rng.Next(_mixtureCandidates.Length)], w);
        }

        // Keep the total at 1: the traces displace the host.
        for (var c = 0; c < Math.Min(start, ws.ComponentCount); c++)
        {
            ws.ComponentFraction[c] *= 1 - sum;
        }
    }

    private void AddMatrix(ref Rng rng, Workspace ws, string matrix, double share)
    {
        if (matrix == Matrices.Igneous || matrix == Matrices.IgneousSparse)
        {
            var oxides = Matrices.IgneousOxides;
            Span<double> fractions = stackalloc double[oxides.Length + 2];
            Matrices.DrawIgneous(ref rng, _igneousCationShares, fractions, sparse: matrix == Matrices.IgneousSparse);

            for (var i = 0; i < oxides.Length; i++)
            {
                if (fractions[i] > 0)
                {
                    AddComponent(ws, oxides[i].Symbol, fractions[i] * share);
                }
            }

            AddComponent(ws, "Si", fractions[oxides.Length] * share);
            AddComponent(ws, "O", fractions[oxides.Length + 1] * share);
            return;
        }

        if (matrix == Matrices.CarbonateRock)
        {
            var compounds = Matrices.CarbonateRockCompounds;
            Span<double> fractions = stackalloc double[compounds.Length + 3];
            Matrices.DrawCarbonateRock(ref rng, _carbonateRockShares, fractions);
            for (var i = 0; i < compounds.Length; i++)
            {
                if (fractions[i] > 0)
                {
                    AddComponent(ws, compounds[i].Symbol, fractions[i] * share);
                }
            }

            AddComponent(ws, "Ca", fractions[compounds.Length] * share);
            AddComponent(ws, "C", fractions[compounds.Length + 1] * share);
            AddComponent(ws, "O", fractions[compounds.Length + 2] * share);
            return;
        }

        foreach (var (symbol, fraction) in Matrices.Of(matrix))
        {
            AddComponent(ws, symbol, fraction * share);
        }
    }

    private void AddComponent(Workspace ws, string symbol, double fraction)
    {
        var a = _tables.AbsorberIndex(symbol);
        for (var c = 0; c < ws.ComponentCount; c++)
        {
            if (ws.ComponentAbsorber[c] == a)
            {
                ws.ComponentFraction[c] += fraction;
                return;
            }
        }

        if (ws.ComponentCount < Workspace.MaxComponents)
        {
            ws.ComponentAbsorber[ws.ComponentCount] = a;
            ws.ComponentFraction[ws.ComponentCount] = fraction;
            ws.ComponentCount++;
        }
    }

    private static double Draw(ref Rng rng, ValueRange range)
    {
        if (range.Max <= range.Min)
        {
            return range.Min;
        }

        return range.Log
            ? Math.Exp(rng.Uniform(Math.Log(range.Min), Math.Log(range.Max)))
            : rng.Uniform(range.Min, range.Max);
    }

    private static T Choose<T>(ref Rng rng, IReadOnlyList<T> options)
        where T : notnull
    {
        static double WeightOf(T option) => option switch
        {
            WeightedValue v => v.Weight,
            FilterOption f => f.Weight,
            PathOption p => p.Weight,
            DetectorOption d => d.Weight,
            _ => 1.0,
        };

        var total = 0.0;
        for (var i = 0; i < options.Count; i++)
        {
            total += WeightOf(options[i]);
        }

        var u = rng.NextDouble() * total;
        for (var i = 0; i < options.Count; i++)
        {
            u -= WeightOf(options[i]);
            if (u < 0)
            {
                return options[i];
            }
        }

        return options[^1];
    }

    private SyntheticSpectrum Snapshot(long index, Workspace ws)
    {
        var lines = _catalog.Lines;
        var elements = _catalog.Elements;
        var id = string.Create(CultureInfo.InvariantCulture, $"{Profile.Name}-{_seed}-{index:D7}");
        var metadata = new Dictionary<string, string>
        {
            ["generator"] = Version,
            ["profile"] = Profile.Name,
            ["seed"] = _seed.ToString(CultureInfo.InvariantCulture),
            ["index"] = index.ToString(CultureInfo.InvariantCulture),
            ["true_calibration"] = ws.TrueCalibration.ToString(),
        };
        if (ws.DiffractionPeaks > 0)
        {
            metadata["diffraction_peaks"] = ws.DiffractionPeaks.ToString(CultureInfo.InvariantCulture);
        }

        if (ws.ForeignCount > 0)
        {
            metadata["foreign_elements"] = string.Join(' ', Enumerable.Range(0, ws.ForeignCount).Select(f =>
                string.Create(CultureInfo.InvariantCulture, $"{_foreignSymbols[ws.ForeignElement[f]]}:{ws.ForeignFraction[f]:G3}")));
        }

        if (ws.EscapeScale != 1)
        {
            metadata["escape_peak_scale"] = ws.EscapeScale.ToString("0.###", CultureInfo.InvariantCulture);
        }

        var spectrum = new RawSpectrum
        {
            Id = id,
            Counts = ws.Counts.AsSpan(0, ws.ChannelCount).ToArray(),
            Calibration = ws.ReportedCalibration,
            LiveTime = TimeSpan.FromSeconds(ws.LiveTimeSeconds),
            RealTime = TimeSpan.FromSeconds(ws.LiveTimeSeconds * (1 + Math.Min(0.9, ws.CountRate * 2e-6))),
            Excitation = new Excitation(ws.Anode, ws.TubeVoltageKilovolts, ws.TubeCurrentMicroamperes),
            Metadata = metadata,
        };
        var inSample = Enumerable.Range(0, elements.Count).Where(e => ws.ElementsInSample[e] == 1).ToArray();
        var composition = new List<ElementFraction>(ws.ComponentCount);
        for (var c = 0; c < ws.ComponentCount; c++)
        {
            composition.Add(new ElementFraction(_tables.Absorbers[ws.ComponentAbsorber[c]], ws.ComponentFraction[c]));
        }

        return new SyntheticSpectrum
        {
            Spectrum = spectrum,
            Lines = lines.Where(l => ws.Lines[l.Index] == 1).Select(l => l.Name).ToArray(),
            Elements = elements.Where(e => ws.Elements[e.Index] == 1).Select(e => e.Symbol).ToArray(),
            ElementsInSample = inSample.Select(e => elements[e].Symbol).ToArray(),
            IgnoreElements = elements.Where(e => ws.IgnoreElements[e.Index] == 1).Select(e => e.Symbol).ToArray(),
            PaperLines = lines.Where(l => ws.ElementsInSample[_lineElementIndex[l.Index]] == 1).Select(l => l.Name).ToArray(),
            Composition = composition,
            Conditions = new SynthesisConditions(
                ws.Anode,
                ws.TubeVoltageKilovolts,
                ws.Filter,
                ws.Monochromatic,
                ws.Path,
                ws.PathLengthMillimetres,
                ws.ScatterAngleDegrees,
                ws.Detector,
                ws.FwhmMnKaElectronvolts,
                ws.TrueCalibration,
                ws.CountRate,
                ws.Matrix,
                ws.SampleKind,
                ws.ThinMassThickness,
                ws.FiniteMassThickness),
        };
    }
}

using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Spectra.Physics;

/// <summary>
/// Fundamental-parameter tables for spectrum synthesis, generated once from xraylib 4.0 by
/// <c>scripts/physics/generate_physics_tables.py</c> and embedded (<c>Data/physics/</c>, provenance in
/// <c>Data/README.md</c>). Energies are keV, cross-sections cm²/g (differential ones cm²/g/sr).
/// Values on the <em>excitation grid</em> are taken at the centres of the 600 bins <c>[0.1k, 0.1(k+1))</c> keV
/// (0–60 keV); values at catalogue-line and anode-line energies are exact, because absorption edges
/// between grid points matter there.
/// </summary>
public sealed class PhysicsTables
{
    /// <summary>Number of excitation-grid bins: 600.</summary>
    public const int GridCount = 600;

    /// <summary>Excitation-grid bin width, keV: 0.1.</summary>
    public const double GridStepKeV = 0.1;

    /// <summary>Scattering angles, degrees, at which the Rayleigh/Compton differential cross-sections are tabulated.</summary>
    public static readonly IReadOnlyList<double> ScatterAnglesDegrees = [90.0, 120.0, 150.0];

    private const int DcsEnergyCount = 120;
    private const double DcsEnergyStepKeV = 0.5;
    // The csproj names resources Data.%(RecursiveDir)…, and RecursiveDir keeps its slash.
    private const string Prefix = "XrfEdge.Spectra.Data.physics/";
    private static readonly Lazy<PhysicsTables> Shipped = new(Load);

    private readonly float[] _lineXs;
    private readonly float[] _lineXsAnode;
    private readonly float[] _muTotal;
    private readonly float[] _muPhoto;
    private readonly float[] _muTotalLines;
    private readonly float[] _muTotalAnode;
    private readonly float[] _dcsRayleigh;
    private readonly float[] _dcsCompton;
    private readonly float[] _foreignXs;
    private readonly float[] _foreignXsAnode;
    private readonly float[] _muTotalForeign;
    private readonly int _lineCount;
    private readonly FrozenDictionary<string, int> _absorberIndex;
    private readonly FrozenDictionary<string, ElementData> _elements;

    private PhysicsTables(
        IReadOnlyList<string> absorbers,
        IReadOnlyList<ElementData> elements,
        IReadOnlyList<AnodeLine> anodeLines,
        IReadOnlyList<ForeignLine> foreignLines,
        Func<string, (float[] Values, int Rows, int Cols)> table)
    {
        Absorbers = absorbers;
        ForeignLines = foreignLines;
        Elements = elements;
        AnodeLines = anodeLines;
        _absorberIndex = absorbers.Select((a, i) => (a, i)).ToFrozenDictionary(p => p.a, p => p.i, StringComparer.Ordinal);
        _elements = elements.ToFrozenDictionary(e => e.Symbol, StringComparer.Ordinal);
        var b = absorbers.Count;
        var a = anodeLines.Count;
        (_lineXs, _lineCount) = Expect(table("line-xs.bin"), -1, GridCount);
        (_lineXsAnode, _) = Expect(table("line-xs-anode.bin"), _lineCount, a);
        (_muTotal, _) = Expect(table("mu-total.bin"), b, GridCount);
        (_muPhoto, _) = Expect(table("mu-photo.bin"), b, GridCount);
        (_muTotalLines, _) = Expect(table("mu-total-lines.bin"), b, _lineCount);
        (_muTotalAnode, _) = Expect(table("mu-total-anode.bin"), b, a);
        (_dcsRayleigh, _) = Expect(table("dcs-rayleigh.bin"), b, ScatterAnglesDegrees.Count * DcsEnergyCount);
        (_dcsCompton, _) = Expect(table("dcs-compton.bin"), b, ScatterAnglesDegrees.Count * DcsEnergyCount);
        var f = foreignLines.Count;
        (_foreignXs, _) = Expect(table("foreign-line-xs.bin"), f, GridCount);
        (_foreignXsAnode, _) = Expect(table("foreign-line-xs-anode.bin"), f, a);
        (_muTotalForeign, _) = Expect(table("mu-total-foreign.bin"), b, f);
    }

    /// <summary>The shipped tables (loaded once, thread-safe).</summary>
    public static PhysicsTables Default => Shipped.Value;

    /// <summary>Absorber names in table-row order: the 41 catalogue elements by Z, then H, He, Be, B, C, N, W, then "Air" (dry air, NIST composition).</summary>
    public IReadOnlyList<string> Absorbers { get; }

    /// <summary>Atomic data of every element absorber.</summary>
    public IReadOnlyList<ElementData> Elements { get; }

    /// <summary>Characteristic lines of the tube anodes Cr, Cu, Mo, Rh, Ag, W up to 50 keV.</summary>
    public IReadOnlyList<AnodeLine> AnodeLines { get; }

    /// <summary>Lines of the elements outside the catalogue (<c>foreign-lines.csv</c>), in table-row order.</summary>
    public IReadOnlyList<ForeignLine> ForeignLines { get; }

    /// <summary>Centre of excitation-grid bin <paramref name="bin"/>, keV.</summary>
    public static double GridCentreKeV(int bin) => (bin + 0.5) * GridStepKeV;

    /// <summary>Row of <paramref name="name"/> ("Fe", "Air") in the absorber tables, or −1.</summary>
    public int AbsorberIndex(string name) => _absorberIndex.TryGetValue(name, out var i) ? i : -1;

    /// <summary>Looks up the atomic data of <paramref name="symbol"/>.</summary>
    public bool TryGetElement(string symbol, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ElementData? element) =>
        _elements.TryGetValue(symbol, out element);

    /// <summary>
    /// Line production cross-section of catalogue line <paramref name="lineIndex"/> (xraylib
    /// <c>CS_FluorLine_Kissel_Cascade</c>, cm²/g, includes cascades and the fluorescence yield) at every
    /// excitation-grid centre; 0 below the line's edge.
    /// </summary>
    public ReadOnlySpan<float> LineCrossSection(int lineIndex) => _lineXs.AsSpan(lineIndex * GridCount, GridCount);

    /// <summary>Line production cross-section of catalogue line <paramref name="lineIndex"/> excited by anode line <paramref name="anodeLineIndex"/>, cm²/g (exact).</summary>
    public double LineCrossSectionAtAnodeLine(int lineIndex, int anodeLineIndex) => _lineXsAnode[(lineIndex * AnodeLines.Count) + anodeLineIndex];

    /// <summary>Line production cross-section of foreign line <paramref name="foreignIndex"/> at every excitation-grid centre, cm²/g (as <see cref="LineCrossSection"/>).</summary>
    public ReadOnlySpan<float> ForeignLineCrossSection(int foreignIndex) => _foreignXs.AsSpan(foreignIndex * GridCount, GridCount);

    /// <summary>Line production cross-section of foreign line <paramref name="foreignIndex"/> excited by anode line <paramref name="anodeLineIndex"/>, cm²/g (exact).</summary>
    public double ForeignLineCrossSectionAtAnodeLine(int foreignIndex, int anodeLineIndex) => _foreignXsAnode[(foreignIndex * AnodeLines.Count) + anodeLineIndex];

    /// <summary>Total mass attenuation (cm²/g) of an absorber at the energy of foreign line <paramref name="foreignIndex"/> (exact).</summary>
    public double MassAttenuationAtForeignLine(int absorber, int foreignIndex) => _muTotalForeign[(absorber * ForeignLines.Count) + foreignIndex];

    /// <summary>Total mass attenuation coefficient (<c>CS_Total</c>, cm²/g) of an absorber at every excitation-grid centre.</summary>
    public ReadOnlySpan<float> MassAttenuation(int absorber) => _muTotal.AsSpan(absorber * GridCount, GridCount);

    /// <summary>Photoabsorption cross-section (<c>CS_Photo</c>, cm²/g) of an absorber at every excitation-grid centre.</summary>
    public ReadOnlySpan<float> Photoabsorption(int absorber) => _muPhoto.AsSpan(absorber * GridCount, GridCount);

    /// <summary>Total mass attenuation (cm²/g) of an absorber at the energy of catalogue line <paramref name="lineIndex"/> (exact).</summary>
    public double MassAttenuationAtLine(int absorber, int lineIndex) => _muTotalLines[(absorber * _lineCount) + lineIndex];

    /// <summary>Total mass attenuation (cm²/g) of an absorber at the energy of anode line <paramref name="anodeLineIndex"/> (exact).</summary>
    public double MassAttenuationAtAnodeLine(int absorber, int anodeLineIndex) => _muTotalAnode[(absorber * AnodeLines.Count) + anodeLineIndex];

    /// <summary>
    /// Total mass attenuation (cm²/g) of an absorber at any energy 0.05–59.95 keV, log-log interpolated between
    /// grid centres (an edge is therefore smeared over one 0.1-keV bin; use the exact tables at line energies).
    /// </summary>
    public double MassAttenuation(int absorber, double energyKeV) => Interpolate(MassAttenuation(absorber), energyKeV);

    /// <summary>Photoabsorption (cm²/g) of an absorber at any energy, interpolated like <see cref="MassAttenuation(int, double)"/>.</summary>
    public double Photoabsorption(int absorber, double energyKeV) => Interpolate(Photoabsorption(absorber), energyKeV);

    /// <summary>Rayleigh differential cross-section (<c>DCS_Rayl</c>, cm²/g/sr) at 0.5–60 keV and 90–150°, interpolated linearly.</summary>
    public double RayleighDifferential(int absorber, double energyKeV, double angleDegrees) =>
        Differential(_dcsRayleigh, absorber, energyKeV, angleDegrees);

    /// <summary>Compton differential cross-section (<c>DCS_Compt</c>, cm²/g/sr) at 0.5–60 keV and 90–150°, interpolated linearly.</summary>
    public double ComptonDifferential(int absorber, double energyKeV, double angleDegrees) =>
        Differential(_dcsCompton, absorber, energyKeV, angleDegrees);

    /// <summary>
    /// Energy of a photon of <paramref name="energyKeV"/> after Compton scattering by <paramref name="angleDegrees"/>
    /// off a free electron at rest, keV: E' = E / (1 + (E/511) (1 − cos θ)) (as xraylib <c>ComptonEnergy</c>).
    /// </summary>
    public static double ComptonEnergyKeV(double energyKeV, double angleDegrees) =>
        energyKeV / (1 + (energyKeV / 510.99895 * (1 - Math.Cos(angleDegrees * Math.PI / 180))));

    /// <summary>Parses tables from named byte blobs (the embedded files).</summary>
    /// <exception cref="FormatException">A file is missing, malformed or of the wrong shape; the message names it.</exception>
    public static PhysicsTables Parse(Func<string, byte[]?> file)
    {
        ArgumentNullException.ThrowIfNull(file);
        byte[] Need(string name) => file(name) ?? throw new FormatException($"physics table {name} is missing");
        using var index = JsonDocument.Parse(Need("index.json"));
        var absorbers = index.RootElement.GetProperty("absorbers").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
        var elements = ParseCsv(Need("elements.csv"), "elements.csv", 17, f => new ElementData(
            int.Parse(f[0], CultureInfo.InvariantCulture),
            f[1],
            D(f[2]),
            D(f[3]),
            f.Skip(4).Take(9).Select(D).ToArray(),
            D(f[13])));
        var anodeRow = 0;
        var anodeLines = ParseCsv(Need("anode-lines.csv"), "anode-lines.csv", 9, f => new AnodeLine(
            anodeRow++,
            f[0],
            int.Parse(f[1], CultureInfo.InvariantCulture),
            f[2],
            f[3],
            D(f[4]),
            D(f[5]),
            D(f[6]),
            D(f[7]),
            D(f[8])));
        var foreignRow = 0;
        var foreignLines = ParseCsv(Need("foreign-lines.csv"), "foreign-lines.csv", 5, f => new ForeignLine(
            foreignRow++,
            f[0],
            int.Parse(f[1], CultureInfo.InvariantCulture),
            f[2],
            f[3],
            D(f[4])));
        return new PhysicsTables(absorbers, elements, anodeLines, foreignLines, name => ReadTable(Need(name), name));
    }

    /// <summary>Reads one "XRFT" float32 table: header magic, version 1, rows, cols (uint32 LE), then rows·cols float32 LE.</summary>
    internal static (float[] Values, int Rows, int Cols) ReadTable(byte[] bytes, string name)
    {
        if (bytes.Length < 16 || bytes[0] != 'X' || bytes[1] != 'R' || bytes[2] != 'F' || bytes[3] != 'T')
        {
            throw new FormatException($"physics table {name} does not start with the XRFT header");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4));
        var rows = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        var cols = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        if (version != 1 || rows <= 0 || cols <= 0 || bytes.Length != 16 + ((long)rows * cols * 4))
        {
            throw new FormatException($"physics table {name}: version {version}, {rows}×{cols}, {bytes.Length} bytes is not a valid version-1 table");
        }

        var values = new float[rows * cols];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(16 + (i * 4)));
        }

        return (values, rows, cols);
    }

    private static (float[] Values, int Rows) Expect((float[] Values, int Rows, int Cols) t, int rows, int cols)
    {
        if ((rows >= 0 && t.Rows != rows) || t.Cols != cols)
        {
            throw new FormatException($"physics table has shape {t.Rows}×{t.Cols}, expected {(rows < 0 ? "any" : rows)}×{cols}");
        }

        return (t.Values, t.Rows);
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static T[] ParseCsv<T>(byte[] bytes, string name, int fields, Func<string[], T> parse)
    {
        var rows = System.Text.Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var result = new List<T>(rows.Length);
        for (var r = 1; r < rows.Length; r++)
        {
            var f = rows[r].Split(',');
            if (f.Length != fields)
            {
                throw new FormatException($"{name} row {r + 1}: {f.Length} fields, expected {fields}");
            }

            result.Add(parse(f));
        }

        return [.. result];
    }

    private static double Interpolate(ReadOnlySpan<float> grid, double energyKeV)
    {
        var x = (energyKeV / GridStepKeV) - 0.5;
        if (x <= 0)
        {
            return grid[0];
        }

        if (x >= GridCount - 1)
        {
            return grid[GridCount - 1];
        }

        var k = (int)x;
        double lo = grid[k];
        double hi = grid[k + 1];
        if (lo <= 0 || hi <= 0)
        {
            return lo + ((hi - lo) * (x - k));
        }

        // Cross-sections fall as a power of energy between edges: interpolate log-log.
        var t = Math.Log(energyKeV / GridCentreKeV(k)) / Math.Log(GridCentreKeV(k + 1) / GridCentreKeV(k));
        return lo * Math.Pow(hi / lo, t);
    }

    private static double Differential(float[] table, int absorber, double energyKeV, double angleDegrees)
    {
        var row = absorber * ScatterAnglesDegrees.Count * DcsEnergyCount;
        var e = Math.Clamp((energyKeV / DcsEnergyStepKeV) - 1, 0, DcsEnergyCount - 1.000001);
        var a = Math.Clamp((angleDegrees - 90.0) / 30.0, 0, ScatterAnglesDegrees.Count - 1.000001);
        var ei = (int)e;
        var ai = (int)a;
        var fe = e - ei;
        var fa = a - ai;
        double At(int ang, int en) => table[row + (ang * DcsEnergyCount) + en];
        var lower = At(ai, ei) + ((At(ai, ei + 1) - At(ai, ei)) * fe);
        var upper = At(ai + 1, ei) + ((At(ai + 1, ei + 1) - At(ai + 1, ei)) * fe);
        return lower + ((upper - lower) * fa);
    }

    private static PhysicsTables Load()
    {
        var assembly = typeof(PhysicsTables).Assembly;
        return Parse(name =>
        {
            using var stream = assembly.GetManifestResourceStream(Prefix + name);
            if (stream is null)
            {
                return null;
            }

            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        });
    }

    /// <summary>Checks that the line tables have one row per line of <paramref name="catalog"/>.</summary>
    /// <returns><see langword="null"/> when consistent, otherwise the problem.</returns>
    public string? CheckAgainst(LineCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return catalog.Lines.Count == _lineCount
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"physics tables have {_lineCount} lines, the catalogue {catalog.Lines.Count}");
    }
}

using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;

namespace XrfEdge.Spectra.Catalog;

/// <summary>
/// The 556 characteristic emission lines of 41 elements that the encoder's outputs stand for, in output order
/// (energy ascending; ties by Z, then Siegbahn line order). Loaded from the embedded
/// <c>Data/emission-lines.csv</c>, generated from xraylib by <c>scripts/physics/generate_catalog.py</c>
/// (provenance in <c>Data/README.md</c>).
/// </summary>
public sealed class LineCatalog
{
    /// <summary>Number of lines in the shipped catalogue: 556 (the paper's output basis).</summary>
    public const int ExpectedLineCount = 556;

    /// <summary>Number of elements in the shipped catalogue: 41.</summary>
    public const int ExpectedElementCount = 41;

    private const string ResourceName = "XrfEdge.Spectra.Data.emission-lines.csv";
    private static readonly Lazy<LineCatalog> Shipped = new(LoadShipped);

    private readonly FrozenDictionary<string, EmissionLine> _byName;
    private readonly FrozenDictionary<string, int> _elementIndex;

    private LineCatalog(IReadOnlyList<EmissionLine> lines, string hash)
    {
        Lines = lines;
        Hash = hash;
        _byName = lines.ToFrozenDictionary(l => l.Name, StringComparer.Ordinal);
        Elements = lines
            .GroupBy(l => l.Element)
            .Select(g => new CatalogElement(g.Key, g.First().AtomicNumber))
            .OrderBy(e => e.AtomicNumber)
            .Select((e, i) => e with { Index = i })
            .ToArray();
        _elementIndex = Elements.ToFrozenDictionary(e => e.Symbol, e => e.Index, StringComparer.Ordinal);
        LinesByElement = Elements.Select(e => (IReadOnlyList<EmissionLine>)lines.Where(l => l.Element == e.Symbol).ToArray()).ToArray();
    }

    /// <summary>The shipped catalogue (loaded once, thread-safe).</summary>
    public static LineCatalog Default => Shipped.Value;

    /// <summary>All lines in output order.</summary>
    public IReadOnlyList<EmissionLine> Lines { get; }

    /// <summary>The elements, ordered by Z; <see cref="CatalogElement.Index"/> is the element-head output index.</summary>
    public IReadOnlyList<CatalogElement> Elements { get; }

    /// <summary>Lines of each element, indexed like <see cref="Elements"/>.</summary>
    public IReadOnlyList<IReadOnlyList<EmissionLine>> LinesByElement { get; }

    /// <summary>
    /// SHA-256 (lowercase hex) of the catalogue file's bytes. Model cards record it; a model built against
    /// another catalogue is refused.
    /// </summary>
    public string Hash { get; }

    /// <summary>Finds a line by IUPAC name ("Fe-KL3").</summary>
    public bool TryGetLine(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EmissionLine? line) =>
        _byName.TryGetValue(name, out line);

    /// <summary>Index of element <paramref name="symbol"/> in <see cref="Elements"/>, or −1.</summary>
    public int ElementIndex(string symbol) => _elementIndex.TryGetValue(symbol, out var i) ? i : -1;

    /// <summary>Parses a catalogue from CSV bytes (header + one row per line).</summary>
    /// <exception cref="FormatException">A row is malformed; the message names the row.</exception>
    public static LineCatalog Parse(byte[] csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var hash = Convert.ToHexStringLower(SHA256.HashData(csv));
        using var reader = new StringReader(System.Text.Encoding.UTF8.GetString(csv));
        var header = reader.ReadLine() ?? throw new FormatException("emission-line catalogue is empty");
        var expected = "index,element,z,name,siegbahn,energy_kev,rad_rate,shell,edge_kev";
        if (header != expected)
        {
            throw new FormatException($"emission-line catalogue header is '{header}', expected '{expected}'");
        }

        var lines = new List<EmissionLine>(ExpectedLineCount);
        var row = 1;
        while (reader.ReadLine() is { } text)
        {
            row++;
            if (text.Length == 0)
            {
                continue;
            }

            var f = text.Split(',');
            if (f.Length != 9)
            {
                throw new FormatException($"emission-line catalogue row {row}: {f.Length} fields, expected 9");
            }

            var line = new EmissionLine(
                int.Parse(f[0], CultureInfo.InvariantCulture),
                f[1],
                int.Parse(f[2], CultureInfo.InvariantCulture),
                f[3],
                f[4],
                double.Parse(f[5], CultureInfo.InvariantCulture),
                double.Parse(f[6], CultureInfo.InvariantCulture),
                f[7],
                double.Parse(f[8], CultureInfo.InvariantCulture));
            if (line.Index != lines.Count)
            {
                throw new FormatException($"emission-line catalogue row {row}: index {line.Index}, expected {lines.Count}");
            }

            lines.Add(line);
        }

        return new LineCatalog(lines, hash);
    }

    private static LineCatalog LoadShipped()
    {
        using var stream = typeof(LineCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from the build");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.ToArray());
    }
}

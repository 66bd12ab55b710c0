using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Spectra;

/// <summary>
/// Checks an X-ray tube anode symbol an operator gives (<c>--anode</c>, the profile key <c>Acquisition:TubeAnode</c>).
/// The anode matters to identification because its lines are scattered into every spectrum, so the model does not
/// assess that element (docs/inference.md, "Decoder rules").
/// </summary>
public static class TubeAnode
{
    /// <summary>
    /// Anodes the synthesis physics tables model (src/XrfEdge.Spectra/Data/physics/anode-lines.csv): Cr, Cu, Mo, Rh, Ag
    /// and W. W is not a catalogue element (no output of the model names it), yet a W tube is a real instrument's tube.
    /// </summary>
    public static IReadOnlyList<string> Modelled { get; } = Array.AsReadOnly(["Cr", "Cu", "Mo", "Rh", "Ag", "W"]);

    /// <summary>
    /// <see langword="null"/> when <paramref name="symbol"/> is a catalogue element or a <see cref="Modelled"/> anode
    /// (case-sensitive, e.g. "Rh"); else a sentence saying why not.
    /// </summary>
    /// <param name="symbol">The symbol given.</param>
    public static string? Check(string? symbol)
    {
        if (symbol is not null && (LineCatalog.Default.ElementIndex(symbol) >= 0 || Modelled.Contains(symbol, StringComparer.Ordinal)))
        {
            return null;
        }

        var known = LineCatalog.Default.Elements.Select(e => e.Symbol).Concat(Modelled).Distinct(StringComparer.Ordinal).ToArray();
        var meant = known.FirstOrDefault(k => string.Equals(k, symbol, StringComparison.OrdinalIgnoreCase));
        var hint = meant is null ? "" : $"; did you mean '{meant}'?";
        return $"'{symbol}' is not an element of the line catalogue nor a known tube anode ({string.Join(", ", Modelled)}); symbols are case-sensitive{hint}";
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Synthesis;

/// <summary>
/// Draws a spectrum as a self-contained SVG: counts per channel on a log axis against energy (reported calibration),
/// with the labelled lines marked and named, so a person can look at what the generator makes.
/// </summary>
public static class SpectrumPlot
{
    private const double Width = 1200;
    private const double Height = 560;
    private const double Left = 70;
    private const double Right = 20;
    private const double Top = 60;
    private const double Bottom = 50;

    /// <summary>SVG of a synthetic spectrum with its detectable lines marked (the strongest few per element named).</summary>
    public static string ToSvg(SyntheticSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        var c = spectrum.Conditions;
        var title = string.Create(
            CultureInfo.InvariantCulture,
            $"{spectrum.Spectrum.Id}: {c.Anode} {c.TubeVoltageKilovolts:0} kV, {c.Filter}, {c.Path}, {c.Detector} {c.FwhmMnKaElectronvolts:0} eV, {spectrum.Spectrum.Counts.Length} ch, {spectrum.Spectrum.TotalCounts:N0} counts, {c.SampleKind}/{c.Matrix}");
        var composition = string.Join(" ", spectrum.Composition.OrderByDescending(e => e.MassFraction).Take(12)
            .Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Symbol} {e.MassFraction:G2}")));
        return ToSvg(spectrum.Spectrum, spectrum.Lines, title, "sample: " + composition + "   detected: " + string.Join(" ", spectrum.Elements));
    }

    /// <summary>SVG of any raw spectrum with the named catalogue lines marked.</summary>
    public static string ToSvg(RawSpectrum spectrum, IEnumerable<string> lines, string title, string subtitle)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        ArgumentNullException.ThrowIfNull(lines);
        var cal = spectrum.Calibration;
        var n = spectrum.Counts.Length;
        var eMin = Math.Max(0, cal.EnergyKeV(0));
        var eMax = Math.Ceiling(cal.EnergyKeV(n - 1));
        var max = Math.Max(10, spectrum.Counts.Max());
        var decades = Math.Ceiling(Math.Log10(max));
        double X(double e) => Left + ((e - eMin) / (eMax - eMin) * (Width - Left - Right));
        double Y(double counts) => Top + ((1 - (Math.Log10(Math.Max(counts, 0.5)) + 0.3) / (decades + 0.3)) * (Height - Top - Bottom));

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"20\" font-size=\"13\">{WebUtility.HtmlEncode(title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left}\" y=\"38\">{WebUtility.HtmlEncode(subtitle)}</text>\n");
        for (var d = 0; d <= decades; d++)
        {
            var y = Y(Math.Pow(10, d));
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{Left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\">1e{d}</text>\n");
        }

        for (var e = Math.Ceiling(eMin); e <= eMax; e += eMax - eMin > 30 ? 5 : 2)
        {
            var x = X(e);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"#eee\"/><text x=\"{x:F1}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{e:0}</text>\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"{Height - 10}\" text-anchor=\"middle\">energy, keV (reported calibration)</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"16\" y=\"{Height / 2}\" transform=\"rotate(-90 16 {Height / 2})\" text-anchor=\"middle\">counts per channel</text>\n");

        var catalog = LineCatalog.Default;
        var marked = lines.Select(l => catalog.TryGetLine(l, out var line) ? line : null).OfType<EmissionLine>()
            .GroupBy(l => (l.Element, l.Family))
            .Select(g => g.OrderByDescending(l => l.RadiativeRate).First())
            .ToArray();
        var labelRow = 0;
        foreach (var line in marked.OrderBy(l => l.EnergyKeV))
        {
            if (line.EnergyKeV < eMin || line.EnergyKeV > eMax)
            {
                continue;
            }

            var x = X(line.EnergyKeV);
            var y = Top + 12 + (labelRow++ % 4 * 12);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{y + 2:F1}\" y2=\"{Height - Bottom}\" stroke=\"#e06060\" stroke-dasharray=\"2,3\"/><text x=\"{x + 2:F1}\" y=\"{y:F1}\" fill=\"#b03030\">{line.Name}</text>\n");
        }

        sb.Append("<polyline fill=\"none\" stroke=\"#1f4e9a\" stroke-width=\"1\" points=\"");
        for (var ch = 0; ch < n; ch++)
        {
            var e = cal.EnergyKeV(ch);
            if (e < eMin || e > eMax)
            {
                continue;
            }

            sb.Append(CultureInfo.InvariantCulture, $"{X(e):F1},{Y(spectrum.Counts[ch]):F1} ");
        }

        sb.Append("\"/>\n</svg>\n");
        return sb.ToString();
    }
}

using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// The decoder's rules written the plain way (the implementation before the vectorised candidate scan, commit 2cc9371):
/// a per-line branch, a visibility array and the same sorts, plus the not-assessed rule (Ar always, the anode when
/// known) as a plain symbol check, and non-finite outputs never count. <see cref="Decoder"/> must give identical Identifications.
/// </summary>
internal sealed class ReferenceDecoder
{
    private readonly float[] _lineThresholds;
    private readonly float[]? _elementThresholds;
    private readonly ModelIdentity _model;
    private readonly int[] _lineElement;
    private readonly bool[] _visible;
    private readonly EmissionLine[] _lines;
    private readonly CatalogElement[] _elements;

    public ReferenceDecoder(LineCatalog catalog, IReadOnlyList<float> lineThresholds, IReadOnlyList<float>? elementThresholds, ModelIdentity model, double thresholdScale)
    {
        _model = model;
        _lineThresholds = lineThresholds.Select(t => (float)(t * thresholdScale)).ToArray();
        _elementThresholds = elementThresholds?.Select(t => (float)(t * thresholdScale)).ToArray();
        _lineElement = catalog.Lines.Select(l => catalog.ElementIndex(l.Element)).ToArray();
        _visible = catalog.Lines.Select(l => Decoder.IsPhysicallyVisible(l, null)).ToArray();
        _lines = [.. catalog.Lines];
        _elements = [.. catalog.Elements];
    }

    public Identification Decode(string spectrumId, float[] lineProbabilities, float[] elementProbabilities, double? tubeVoltageKilovolts, string? anode)
    {
        var notAssessed = _elements
            .Where(e => e.Symbol == "Ar" || e.Symbol == anode
                || (tubeVoltageKilovolts is { } voltage && !_lines.Any(l => l.Element == e.Symbol && _visible[l.Index] && l.EdgeKeV < voltage)))
            .Select(e => e.Symbol)
            .ToArray();
        var useHead = _elementThresholds is not null && elementProbabilities.Length > 0;
        var miss = Enumerable.Repeat(1.0, _elements.Length).ToArray();
        var supportCount = new int[_elements.Length];
        var keys = new List<float>();
        var reported = new List<int>();
        for (var i = 0; i < lineProbabilities.Length; i++)
        {
            var p = lineProbabilities[i];
            if (p >= _lineThresholds[i] && float.IsFinite(p) && _visible[i] && (tubeVoltageKilovolts is not { } kv || _lines[i].EdgeKeV < kv) && !notAssessed.Contains(_lines[i].Element))
            {
                keys.Add(-p);
                reported.Add(i);
                miss[_lineElement[i]] *= 1.0 - p;
                supportCount[_lineElement[i]]++;
            }
        }

        var keyArray = keys.ToArray();
        var reportedArray = reported.ToArray();
        // Strongest first, ties in catalogue order (a stable sort of candidates taken in catalogue order).
        reportedArray = [.. reportedArray.Select((line, k) => (line, key: keyArray[k])).OrderBy(c => c.key).Select(c => c.line)];
        var lines = new LineDetection[reportedArray.Length];
        var support = new List<string>?[_elements.Length];
        for (var k = 0; k < reportedArray.Length; k++)
        {
            var line = _lines[reportedArray[k]];
            lines[k] = new LineDetection(line, lineProbabilities[reportedArray[k]]);
            (support[_lineElement[reportedArray[k]]] ??= []).Add(line.Name);
        }

        var elements = new List<ElementDetection>();
        for (var index = 0; index < _elements.Length; index++)
        {
            if (support[index] is not { } supporting)
            {
                continue;
            }

            var probability = useHead ? elementProbabilities[index] : (float)(1.0 - miss[index]);
            if (useHead && !(float.IsFinite(probability) && probability >= _elementThresholds![index]))
            {
                continue;
            }

            elements.Add(new ElementDetection(_elements[index].Symbol, _elements[index].AtomicNumber, probability, supporting.ToArray()));
        }

        elements = [.. elements.OrderByDescending(e => e.Probability).ThenBy(e => e.AtomicNumber)];
        return new Identification { SpectrumId = spectrumId, Elements = elements, Lines = lines, LineProbabilities = [.. lineProbabilities], Model = _model, NotAssessed = notAssessed };
    }
}

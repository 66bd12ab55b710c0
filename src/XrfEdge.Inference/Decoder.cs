using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference;

/// <summary>
/// Turns encoder outputs into an <see cref="Identification"/> (rules in docs/inference.md, "Decoder"):
/// <list type="number">
/// <item>A line is reported when its probability is at or above its card threshold × <see cref="ThresholdScale"/> and it
/// is physically possible in this measurement: excitable (its absorption edge <c>EdgeKeV</c> is below the tube voltage;
/// not checked when the voltage is unknown) and on the model grid (energy within [0, 30 keV)). There is no air-path
/// floor: whether a soft line (O Kα 0.52 keV) survives the beam path depends on the instrument (air, He, vacuum),
/// which a spectrum does not carry, and the model learned it from labels that do.</item>
/// <item>An element is reported only when at least one reported line of it exists. Its probability is the element
/// head's output when the model has one (which must also pass its threshold × scale); otherwise the noisy-OR
/// 1 − Π(1 − pᵢ) of its reported lines (independent evidence from several lines).</item>
/// <item>Elements and lines are listed strongest first; ties by Z (elements) and catalogue order (lines).</item>
/// <item>Elements the model was never trained to decide are <em>not assessed</em>: neither they nor their lines are
/// reported, whatever their probability, and <see cref="Identification.NotAssessed"/> names them. Always
/// <see cref="AlwaysNotAssessed"/> (Ar, from air in the beam path, is unlabelled in every training spectrum); and the
/// tube anode when the measurement names it, because the tube's own lines are scattered into every spectrum and the
/// training labels ignore the anode; and, at a tube voltage below every edge of an element's lines (only below 2.58 kV),
/// that element, which no line can show. <see cref="Identification.LineProbabilities"/> keeps their outputs for audits.</item>
/// <item>A non-finite output (NaN, ±∞: no sigmoid gives one, so the graph is broken) is never evidence: neither its line
/// nor, from the element head, its element is reported.</item>
/// </list>
/// Stateless after construction and thread-safe.
/// </summary>
public sealed class Decoder
{
    private readonly LineCatalog _catalog;
    private readonly float[] _lineThresholds;
    private readonly float[]? _elementThresholds;
    private readonly ModelIdentity _model;
    private readonly int[] _lineElement;
    private readonly double[] _edgeKeV;
    private readonly EmissionLine[] _lines;
    private readonly CatalogElement[] _elements;
    private readonly int _elementCount;

    // What Identification.NotAssessed says: the always-unassessed elements alone, and, per catalogue element index,
    // those plus that element as the anode. Built once so that Decode allocates nothing for it.
    private readonly IReadOnlyList<string> _notAssessedWithoutAnode;
    private readonly IReadOnlyList<string>[] _notAssessedWithAnode;

    // Per element, the lowest absorption edge of its lines on the grid, keV (+∞ without any): below that tube voltage
    // none of its lines can be excited. The highest of them (Bi, 2.58 keV) bounds the voltages where that can happen.
    private readonly double[] _lowestEdgeKeV;
    private readonly double _highestLowestEdgeKeV;

    /// <summary>Creates a decoder from per-line thresholds (and per-element thresholds for an element head).</summary>
    /// <param name="catalog">The catalogue whose order the probabilities follow.</param>
    /// <param name="lineThresholds">One threshold (0–1) per catalogue line.</param>
    /// <param name="elementThresholds">One threshold per catalogue element, or null when the model has no element head.</param>
    /// <param name="model">Identity stamped on every result.</param>
    /// <param name="thresholdScale">Multiplies every threshold (&gt; 1 = stricter), usually 0.5–2.</param>
    public Decoder(LineCatalog catalog, IReadOnlyList<float> lineThresholds, IReadOnlyList<float>? elementThresholds, ModelIdentity model, double thresholdScale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(lineThresholds);
        if (lineThresholds.Count != catalog.Lines.Count)
        {
            throw new ArgumentException($"{lineThresholds.Count} line thresholds for {catalog.Lines.Count} catalogue lines", nameof(lineThresholds));
        }

        if (elementThresholds is not null && elementThresholds.Count != catalog.Elements.Count)
        {
            throw new ArgumentException($"{elementThresholds.Count} element thresholds for {catalog.Elements.Count} elements", nameof(elementThresholds));
        }

        if (!(thresholdScale > 0) || double.IsInfinity(thresholdScale))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdScale), thresholdScale, "the threshold scale must be a positive number");
        }

        _catalog = catalog;
        _model = model;
        ThresholdScale = thresholdScale;
        // A line outside the visible window can never be reported: an infinite threshold says so in the one array the
        // hot loop compares against (no finite probability, and not NaN, is ≥ +∞; a +∞ output is, so every candidate
        // must also be finite: an infinite or NaN output is a broken graph, never evidence).
        // The lines of an element that is never assessed (Ar) are put out of reach the same way.
        _lineThresholds = catalog.Lines.Select((l, i) => IsPhysicallyVisible(l, null) && !AlwaysNotAssessed.Contains(l.Element) ? (float)(lineThresholds[i] * thresholdScale) : float.PositiveInfinity).ToArray();
        _elementThresholds = elementThresholds?.Select(t => (float)(t * thresholdScale)).ToArray();
        _lineElement = catalog.Lines.Select(l => catalog.ElementIndex(l.Element)).ToArray();
        _edgeKeV = catalog.Lines.Select(l => l.EdgeKeV).ToArray();
        _lines = [.. catalog.Lines];
        _elements = [.. catalog.Elements];
        _elementCount = _elements.Length;
        var always = _elements.Where(e => AlwaysNotAssessed.Contains(e.Symbol)).ToArray();
        _lowestEdgeKeV = catalog.LinesByElement
            .Select(lines => lines.Where(l => IsPhysicallyVisible(l, null)).Select(l => l.EdgeKeV).DefaultIfEmpty(double.PositiveInfinity).Min())
            .ToArray();
        _highestLowestEdgeKeV = _lowestEdgeKeV.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        _notAssessedWithoutAnode = Array.AsReadOnly(always.Select(e => e.Symbol).ToArray());
        _notAssessedWithAnode = _elements
            .Select(anode => (IReadOnlyList<string>)Array.AsReadOnly(always.Append(anode).Distinct().OrderBy(e => e.AtomicNumber).Select(e => e.Symbol).ToArray()))
            .ToArray();
    }

    /// <summary>
    /// Elements never assessed, in any measurement: Ar. Air in the beam path puts Ar lines (Ar-KL3 2.957 keV) in most
    /// spectra, so the training labels ignore Ar everywhere (SpectrumGenerator, "Ignore: the anode, Ar, …"); its outputs
    /// were never trained and its card thresholds, chosen on validation spectra without Ar labels, mean nothing.
    /// </summary>
    public static IReadOnlyList<string> AlwaysNotAssessed { get; } = Array.AsReadOnly(["Ar"]);

    /// <summary>Creates the decoder of an encoder, from its card's thresholds.</summary>
    public static Decoder For(LineEncoder encoder, double thresholdScale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        return new Decoder(LineCatalog.Default, encoder.Card.LineThresholds, encoder.HasElementHead ? encoder.Card.ElementThresholds : null, encoder.Identity, thresholdScale);
    }

    /// <summary>The factor applied to every threshold.</summary>
    public double ThresholdScale { get; }

    /// <summary>
    /// Whether <paramref name="line"/> can appear in a spectrum excited at <paramref name="tubeVoltageKilovolts"/> (null =
    /// unknown: not checked): its edge is below the tube voltage and its energy lies on the model grid [0, 30 keV).
    /// </summary>
    /// <remarks>
    /// A former fixed 1.0 keV floor ("air absorbs softer lines") also applied. It was wrong for vacuum and helium
    /// instruments: on the benchtop test set (5000 spectra, seed 4006) it hid every O and F detection (779 + 46 true
    /// elements) and 3600 true L/M lines, which cost 0.022 element F1 and 0.05 top-1 (docs/inference.md, "eval").
    /// </remarks>
    public static bool IsPhysicallyVisible(EmissionLine line, double? tubeVoltageKilovolts)
    {
        ArgumentNullException.ThrowIfNull(line);
        var visible = line.EnergyKeV >= ModelGrid.LowerKeV && line.EnergyKeV < ModelGrid.UpperKeV;
        var excitable = tubeVoltageKilovolts is not { } kv || line.EdgeKeV < kv;
        return visible && excitable;
    }

    /// <summary>Decodes one spectrum's encoder output.</summary>
    /// <remarks>Allocates only the result: the Identification, its line-probability copy and the reported detections.</remarks>
    /// <param name="spectrumId">Id stamped on the result.</param>
    /// <param name="lineProbabilities">556 line probabilities, catalogue order.</param>
    /// <param name="elementProbabilities">41 element-head probabilities, or empty (no element head).</param>
    /// <param name="tubeVoltageKilovolts">Tube voltage of the measurement, or null when unknown.</param>
    /// <param name="anode">
    /// Tube anode element symbol of the measurement (<see cref="XrfEdge.Spectra.Excitation.Anode"/>, e.g. "Rh"), or null when
    /// unknown. A catalogue element named here is not assessed: never reported, listed in
    /// <see cref="Identification.NotAssessed"/>. A symbol outside the catalogue changes nothing (no output names it).
    /// </param>
    [SkipLocalsInit] // the stack buffers are written before they are read; zeroing 4.5 KB per call is measurable
    public Identification Decode(string spectrumId, ReadOnlySpan<float> lineProbabilities, ReadOnlySpan<float> elementProbabilities, double? tubeVoltageKilovolts, string? anode)
    {
        if (lineProbabilities.Length != _lineThresholds.Length)
        {
            throw new ArgumentException($"{lineProbabilities.Length} line probabilities, expected {_lineThresholds.Length}", nameof(lineProbabilities));
        }

        var useHead = _elementThresholds is not null && !elementProbabilities.IsEmpty;
        if (useHead && elementProbabilities.Length != _elementThresholds!.Length)
        {
            throw new ArgumentException($"{elementProbabilities.Length} element probabilities, expected {_elementThresholds.Length}", nameof(elementProbabilities));
        }

        // The 556 thresholds are compared four at a time (lines that can never be seen carry an infinite threshold, see
        // the constructor) and only the few lines at or above their threshold are examined further: the scan costs
        // ~0.1 µs instead of a branch per line. Candidates stay in catalogue order, as before, so that the key sort
        // below orders ties exactly as it always has.
        var elementCount = _elementCount;
        Span<double> miss = stackalloc double[elementCount];
        Span<int> supportCount = stackalloc int[elementCount];
        miss.Fill(1.0);
        supportCount.Clear();
        Span<float> keys = stackalloc float[_lines.Length];
        Span<int> reported = stackalloc int[_lines.Length];
        var n = 0;
        var edges = _edgeKeV;
        var checkEdges = tubeVoltageKilovolts.HasValue;
        var kv = tubeVoltageKilovolts.GetValueOrDefault();
        // -1 (no anode, or one outside the catalogue) matches no line's element.
        var anodeElement = anode is null ? -1 : _catalog.ElementIndex(anode);
        var lineElements = _lineElement;
        ref var probability0 = ref MemoryMarshal.GetReference(lineProbabilities);
        ref var threshold0 = ref MemoryArrayReference(_lineThresholds);
        var i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= lineProbabilities.Length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var above = Vector128.GreaterThanOrEqual(Vector128.LoadUnsafe(ref probability0, (nuint)i), Vector128.LoadUnsafe(ref threshold0, (nuint)i)).ExtractMostSignificantBits();
                while (above != 0)
                {
                    var line = i + BitOperations.TrailingZeroCount(above);
                    above &= above - 1;
                    var p = lineProbabilities[line];
                    if (float.IsFinite(p) && (!checkEdges || edges[line] < kv) && lineElements[line] != anodeElement)
                    {
                        n = Accept(line, p, n, keys, reported, miss, supportCount);
                    }
                }
            }
        }

        for (; i < lineProbabilities.Length; i++)
        {
            var p = lineProbabilities[i];
            if (p >= _lineThresholds[i] && float.IsFinite(p) && (!checkEdges || edges[i] < kv) && lineElements[i] != anodeElement)
            {
                n = Accept(i, p, n, keys, reported, miss, supportCount);
            }
        }

        keys[..n].Sort(reported[..n]);
        OrderTiesByCatalogue(keys[..n], reported[..n]);
        var lines = new LineDetection[n];
        var support = new string[]?[elementCount];
        Span<int> filled = stackalloc int[elementCount];
        filled.Clear();
        for (var k = 0; k < n; k++)
        {
            var line = _lines[reported[k]];
            lines[k] = new LineDetection(line, lineProbabilities[reported[k]]);
            var e = _lineElement[reported[k]];
            (support[e] ??= new string[supportCount[e]])[filled[e]++] = line.Name;
        }

        var elements = new List<ElementDetection>(Math.Min(n, elementCount));
        for (var index = 0; index < elementCount; index++)
        {
            if (support[index] is not { } supporting)
            {
                continue;
            }

            float probability;
            if (useHead)
            {
                probability = elementProbabilities[index];
                // Written as "not ≥" so that NaN fails it too, and finite so that +∞ does not pass a finite threshold.
                if (!(probability >= _elementThresholds![index]) || !float.IsFinite(probability))
                {
                    continue;
                }
            }
            else
            {
                probability = (float)(1.0 - miss[index]);
            }

            var element = _elements[index];
            elements.Add(new ElementDetection(element.Symbol, element.AtomicNumber, probability, supporting));
        }

        // Equal probabilities (common: int8 outputs take 256 levels) go by Z; the sort alone is unstable (above 16 items,
        // and for some 3-item inputs), which scrambled tied elements.
        elements.Sort(static (a, b) => b.Probability.CompareTo(a.Probability) is var byProbability and not 0 ? byProbability : a.AtomicNumber.CompareTo(b.AtomicNumber));
        return new Identification
        {
            SpectrumId = spectrumId,
            Elements = elements,
            Lines = lines,
            LineProbabilities = Copy(lineProbabilities),
            Model = _model,
            NotAssessed = checkEdges && !(kv > _highestLowestEdgeKeV)
                ? NotAssessedAt(kv, anodeElement)
                : anodeElement < 0 ? _notAssessedWithoutAnode : _notAssessedWithAnode[anodeElement],
        };
    }

    /// <summary>
    /// The not-assessed list at a tube voltage that excites no line of some element (below 2.58 kV, or NaN): such an element
    /// cannot show, so the training labels ignore it (SpectrumGenerator, "in-sample elements that no line makes visible"),
    /// and reporting nothing would read as "absent". Rare (file voltages start at 1 kV), so it may allocate.
    /// </summary>
    private System.Collections.ObjectModel.ReadOnlyCollection<string> NotAssessedAt(double kv, int anodeElement)
    {
        var symbols = new List<string>();
        for (var index = 0; index < _elementCount; index++)
        {
            var element = _elements[index];
            if (index == anodeElement || AlwaysNotAssessed.Contains(element.Symbol) || !(_lowestEdgeKeV[index] < kv))
            {
                symbols.Add(element.Symbol);
            }
        }

        return symbols.AsReadOnly();
    }

    /// <summary>
    /// Puts each run of equal keys (tied probabilities) back in catalogue order: the key sort is unstable (introsort above
    /// 16 items), so tied lines came out in an order that depended on the sort's internals, not on the lines.
    /// </summary>
    private static void OrderTiesByCatalogue(ReadOnlySpan<float> keys, Span<int> lines)
    {
        for (var start = 0; start < keys.Length;)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                lines[start..end].Sort();
            }

            start = end;
        }
    }

    private int Accept(int line, float probability, int n, Span<float> keys, Span<int> reported, Span<double> miss, Span<int> supportCount)
    {
        keys[n] = -probability;
        reported[n] = line;
        var element = _lineElement[line];
        miss[element] *= 1.0 - probability;
        supportCount[element]++;
        return n + 1;
    }

    // The copy every Identification keeps: 2.2 KB, above the size from which the runtime honours "uninitialised", so
    // the allocation skips zeroing memory that CopyTo overwrites at once.
    private static float[] Copy(ReadOnlySpan<float> values)
    {
        var copy = GC.AllocateUninitializedArray<float>(values.Length);
        values.CopyTo(copy);
        return copy;
    }

    private static ref float MemoryArrayReference(float[] array) => ref MemoryMarshal.GetArrayDataReference(array);
}

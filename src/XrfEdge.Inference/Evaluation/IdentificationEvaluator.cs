using System.Text.Json;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Evaluation;

/// <summary>
/// Accumulates the evaluation metrics of docs/inference.md ("eval") over labelled spectra:
/// element- and line-level micro metrics honouring ignore_elements, the paper protocol (every catalogue line of
/// every element in the sample) when elements_in_sample is given, both readings of the paper's guess ratio,
/// per-element precision/recall and the main confusions. Not thread-safe; add samples from one thread.
/// </summary>
public sealed class IdentificationEvaluator
{
    /// <summary>Two lines closer than this (keV) are treated as overlapping peaks when explaining a false report: about the FWHM/1.2 of an SDD at 6 keV (~150 eV).</summary>
    public const double OverlapKeV = 0.15;

    private readonly LineCatalog _catalog;
    private readonly long[] _tp;
    private readonly long[] _fp;
    private readonly long[] _fn;
    private readonly Dictionary<(string Reported, string Actual), long> _confusions = [];
    private long _top1Hits;
    private long _top1ReportedHits;
    private long _top1Spectra;

    /// <summary>Creates an evaluator over <paramref name="catalog"/> (default: the shipped catalogue).</summary>
    public IdentificationEvaluator(LineCatalog? catalog = null)
    {
        _catalog = catalog ?? LineCatalog.Default;
        _tp = new long[_catalog.Elements.Count];
        _fp = new long[_catalog.Elements.Count];
        _fn = new long[_catalog.Elements.Count];
    }

    /// <summary>Element level, truth = "elements".</summary>
    public BinaryMetrics Elements { get; } = new();

    /// <summary>Line level, truth = "lines" (spectra without line labels are skipped).</summary>
    public BinaryMetrics Lines { get; } = new();

    /// <summary>Paper protocol, element level: truth = "elements_in_sample", only the anode/Ar-type ignores apply.</summary>
    public BinaryMetrics PaperElements { get; } = new();

    /// <summary>Paper protocol, line level: truth = every catalogue line of every element in the sample.</summary>
    public BinaryMetrics PaperLines { get; } = new();

    /// <summary>Spectra added.</summary>
    public long Spectra { get; private set; }

    /// <summary>Spectra with element labels.</summary>
    public long SpectraWithElementLabels { get; private set; }

    /// <summary>Spectra with line labels.</summary>
    public long SpectraWithLineLabels { get; private set; }

    /// <summary>Spectra scored under the paper protocol.</summary>
    public long SpectraWithSampleComposition { get; private set; }

    /// <summary>Spectra the top-1 figures are over: those with at least one true, non-ignored catalogue element.</summary>
    public long Top1Spectra => _top1Spectra;

    /// <summary>Guess ratio, reading 1: element-level recall (TP / (TP + FN)), the same as <see cref="Elements"/>' sensitivity.</summary>
    public double GuessRatioRecall => Elements.Sensitivity;

    /// <summary>
    /// Guess ratio, reading 2 (issue 5's top-1): the share of spectra with at least one scored true catalogue element (<see cref="Top1Spectra"/>) whose most
    /// probable non-ignored element (highest <see cref="EvaluationSample.ElementScores"/>, reported or not; ties go to
    /// the lower Z) is truly present. The same definition as training/xrftrain/metrics.py.
    /// </summary>
    public double GuessRatioTop1 => _top1Spectra == 0 ? double.NaN : (double)_top1Hits / _top1Spectra;

    /// <summary>
    /// The stricter product reading of top-1: the strongest <em>reported</em> non-ignored element is true (no report =
    /// miss). It differs from <see cref="GuessRatioTop1"/> only on spectra whose most probable element is not reported.
    /// </summary>
    public double GuessRatioTop1Reported => _top1Spectra == 0 ? double.NaN : (double)_top1ReportedHits / _top1Spectra;

    /// <summary>Adds one spectrum.</summary>
    public void Add(EvaluationSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Spectra++;
        var result = sample.Result;
        var reportedElements = result.Elements.Select(e => e.Symbol).ToHashSet(StringComparer.Ordinal);
        var reportedLines = result.Lines.Select(l => l.Line.Index).ToHashSet();
        var ignore = sample.IgnoreElements.ToHashSet(StringComparer.Ordinal);

        if (sample.Elements is { } truthElements)
        {
            SpectraWithElementLabels++;
            var truth = truthElements.ToHashSet(StringComparer.Ordinal);
            foreach (var element in _catalog.Elements)
            {
                if (ignore.Contains(element.Symbol))
                {
                    continue;
                }

                var actual = truth.Contains(element.Symbol);
                var predicted = reportedElements.Contains(element.Symbol);
                Elements.Add(actual, predicted, sample.ElementScores[element.Index]);
                if (actual && predicted)
                {
                    _tp[element.Index]++;
                }
                else if (predicted)
                {
                    _fp[element.Index]++;
                    CountConfusion(result, element.Symbol, truth);
                }
                else if (actual)
                {
                    _fn[element.Index]++;
                }
            }

            // Only catalogue elements count: one without a model output (Hf) can never be the most probable, and
            // xrftrain.metrics (truth = the 41 y_elements columns) leaves a spectrum of only such elements out too.
            if (truth.Any(s => !ignore.Contains(s) && _catalog.ElementIndex(s) >= 0))
            {
                _top1Spectra++;
                if (truth.Contains(MostProbable(sample.ElementScores, ignore)))
                {
                    _top1Hits++;
                }

                var top = result.Elements.FirstOrDefault(e => !ignore.Contains(e.Symbol));
                if (top is not null && truth.Contains(top.Symbol))
                {
                    _top1ReportedHits++;
                }
            }
        }

        if (sample.Lines is { } truthLines)
        {
            SpectraWithLineLabels++;
            var truth = truthLines.ToHashSet(StringComparer.Ordinal);
            foreach (var line in _catalog.Lines)
            {
                if (!ignore.Contains(line.Element))
                {
                    Lines.Add(truth.Contains(line.Name), reportedLines.Contains(line.Index), result.LineProbabilities[line.Index]);
                }
            }
        }

        if (sample.ElementsInSample is { } inSample)
        {
            SpectraWithSampleComposition++;
            var composition = inSample.ToHashSet(StringComparer.Ordinal);
            // The paper scores every element of the sample, detectable or not: only ignores that are not in the
            // sample (tube anode, Ar from air) still apply.
            var paperIgnore = ignore.Where(s => !composition.Contains(s)).ToHashSet(StringComparer.Ordinal);
            foreach (var element in _catalog.Elements)
            {
                if (!paperIgnore.Contains(element.Symbol))
                {
                    PaperElements.Add(composition.Contains(element.Symbol), reportedElements.Contains(element.Symbol), sample.ElementScores[element.Index]);
                }
            }

            foreach (var line in _catalog.Lines)
            {
                if (!paperIgnore.Contains(line.Element))
                {
                    PaperLines.Add(composition.Contains(line.Element), reportedLines.Contains(line.Index), result.LineProbabilities[line.Index]);
                }
            }
        }
    }

    /// <summary>Per-element counts, by Z.</summary>
    public IReadOnlyList<ElementCounts> PerElement() =>
        _catalog.Elements.Select(e => new ElementCounts(e.Symbol, _tp[e.Index], _fp[e.Index], _fn[e.Index])).ToArray();

    /// <summary>The most frequent confusions, most frequent first.</summary>
    public IReadOnlyList<Confusion> MainConfusions(int count = 10) =>
        _confusions.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Reported, StringComparer.Ordinal).Take(count)
            .Select(p => new Confusion(p.Key.Reported, p.Key.Actual, p.Value)).ToArray();

    /// <summary>
    /// The score of every element for <see cref="EvaluationSample.ElementScores"/>: the element head when given, else
    /// the reported probability, else the highest probability of the element's lines.
    /// </summary>
    public static float[] ElementScores(Identification result, ReadOnlySpan<float> elementHead, LineCatalog? catalog = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        catalog ??= LineCatalog.Default;
        var scores = new float[catalog.Elements.Count];
        if (elementHead.Length == scores.Length)
        {
            elementHead.CopyTo(scores);
            return scores;
        }

        foreach (var element in catalog.Elements)
        {
            var best = 0f;
            foreach (var line in catalog.LinesByElement[element.Index])
            {
                best = Math.Max(best, result.LineProbabilities[line.Index]);
            }

            scores[element.Index] = best;
        }

        foreach (var reported in result.Elements)
        {
            scores[catalog.ElementIndex(reported.Symbol)] = reported.Probability;
        }

        return scores;
    }

    /// <summary>Writes the whole report as one JSON object (schema in docs/inference.md, "eval --json").</summary>
    public void WriteJson(Utf8JsonWriter writer, double spectraPerSecond)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumber("spectra", Spectra);
        writer.WriteNumber("spectra_with_element_labels", SpectraWithElementLabels);
        writer.WriteNumber("spectra_with_line_labels", SpectraWithLineLabels);
        writer.WriteNumber("spectra_with_sample_composition", SpectraWithSampleComposition);
        BinaryMetrics.WriteNumber(writer, "spectra_per_second", spectraPerSecond);
        writer.WritePropertyName("element");
        Elements.WriteJson(writer);
        writer.WritePropertyName("line");
        if (SpectraWithLineLabels > 0)
        {
            Lines.WriteJson(writer);
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WritePropertyName("paper");
        if (SpectraWithSampleComposition > 0)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("element");
            PaperElements.WriteJson(writer);
            writer.WritePropertyName("line");
            PaperLines.WriteJson(writer);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteStartObject("guess_ratio");
        BinaryMetrics.WriteNumber(writer, "element_recall", GuessRatioRecall);
        BinaryMetrics.WriteNumber(writer, "top1_hit_rate", GuessRatioTop1);
        BinaryMetrics.WriteNumber(writer, "top1_reported_hit_rate", GuessRatioTop1Reported);
        writer.WriteNumber("top1_spectra", Top1Spectra);
        writer.WriteEndObject();
        writer.WriteStartArray("per_element");
        foreach (var counts in PerElement())
        {
            writer.WriteStartObject();
            writer.WriteString("symbol", counts.Symbol);
            writer.WriteNumber("support", counts.Support);
            writer.WriteNumber("tp", counts.TruePositives);
            writer.WriteNumber("fp", counts.FalsePositives);
            writer.WriteNumber("fn", counts.FalseNegatives);
            BinaryMetrics.WriteNumber(writer, "precision", counts.Precision);
            BinaryMetrics.WriteNumber(writer, "recall", counts.Recall);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("confusions");
        foreach (var confusion in MainConfusions())
        {
            writer.WriteStartObject();
            writer.WriteString("reported", confusion.Reported);
            writer.WriteString("actual", confusion.Actual);
            writer.WriteNumber("count", confusion.Count);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>The symbol of the highest score outside <paramref name="ignore"/>, first (lowest Z) on ties, as NumPy's argmax.</summary>
    private string MostProbable(IReadOnlyList<float> scores, HashSet<string> ignore)
    {
        var best = -1;
        var bestScore = float.NegativeInfinity;
        foreach (var element in _catalog.Elements)
        {
            var score = scores[element.Index];
            if (!ignore.Contains(element.Symbol) && (best < 0 || score > bestScore))
            {
                best = element.Index;
                bestScore = score;
            }
        }

        return best < 0 ? string.Empty : _catalog.Elements[best].Symbol;
    }

    private void CountConfusion(Identification result, string falseSymbol, HashSet<string> truth)
    {
        var strongest = result.Lines.FirstOrDefault(l => l.Line.Element == falseSymbol);
        if (strongest is null)
        {
            return;
        }

        string? best = null;
        var bestDistance = OverlapKeV;
        foreach (var symbol in truth)
        {
            var index = _catalog.ElementIndex(symbol);
            if (index < 0)
            {
                continue;
            }

            foreach (var line in _catalog.LinesByElement[index])
            {
                var distance = Math.Abs(line.EnergyKeV - strongest.Line.EnergyKeV);
                if (distance <= bestDistance)
                {
                    bestDistance = distance;
                    best = symbol;
                }
            }
        }

        var key = (falseSymbol, best ?? "(none)");
        _confusions[key] = _confusions.GetValueOrDefault(key) + 1;
    }
}

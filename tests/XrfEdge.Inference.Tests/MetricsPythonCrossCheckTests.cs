using System.Globalization;
using System.Text.Json;
using XrfEdge.Inference.Evaluation;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// <c>xrfedge eval</c> (Decoder + IdentificationEvaluator) against the training side's reference,
/// <c>training/xrftrain/metrics.evaluate</c>, on the same outputs and labels: the card's Python figures and eval's must
/// be the same metric, not two that agree only on the sets someone happened to compare. The cases are built to hit
/// every rule both sides claim to share: thresholds per line and element, the excitation check (kV known or not), the
/// not-assessed anode and Ar, ignored elements, in-sample but undetectable elements (paper protocol), spectra with no
/// true element (top-1 skips them) and tied element scores (int8-like 1/64 steps; ties go to the lower Z).
/// </summary>
public sealed class MetricsPythonCrossCheckTests
{
    private const string Script = """
        import json, sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        from xrftrain.catalog import load_catalog
        from xrftrain.metrics import evaluate, not_assessed_mask
        cat = load_catalog()
        d = json.load(sys.stdin)
        a = {k: np.asarray(v) for k, v in d.items()}
        n = a["line_prob"].shape[0]
        m = evaluate(a["line_prob"].astype(np.float32), a["element_prob"].astype(np.float32), a["y_lines"], a["y_elements"],
                     a["y_lines_paper"], a["in_sample"], a["ignore"], cat.line_element, a["line_thr"].astype(np.float32),
                     a["element_thr"].astype(np.float32), a["edges"], a["tube_kv"], not_assessed_mask(cat, n, a["anode"]))
        json.dump({k: {kk: (None if isinstance(vv, float) and vv != vv else vv) for kk, vv in v.items()} for k, v in m.items()}, sys.stdout)
        """;

    private static readonly LineCatalog Catalog = LineCatalog.Default;
    private static readonly ModelIdentity Model = new("fake", "0", new string('a', 64), "int8");

    [DebianPythonFact("numpy")]
    public void Evaluate_SameOutputsAndLabels_SameMetricsAsXrftrain()
    {
        var random = new Random(20261124);
        const int Spectra = 400;
        int lines = Catalog.Lines.Count, elements = Catalog.Elements.Count;
        var lineThresholds = Enumerable.Range(0, lines).Select(_ => (float)(0.2 + (0.6 * random.NextDouble()))).ToArray();
        var elementThresholds = Enumerable.Range(0, elements).Select(_ => (float)(0.2 + (0.6 * random.NextDouble()))).ToArray();
        var decoder = new Decoder(Catalog, lineThresholds, elementThresholds, Model);
        var evaluator = new IdentificationEvaluator();
        string?[] anodes = [null, "Rh", "Mo", "Ag", "W"];
        double?[] voltages = [null, 4.0, 10.0, 20.0, 50.0];
        var python = new Dictionary<string, object>
        {
            ["line_thr"] = lineThresholds,
            ["element_thr"] = elementThresholds,
            ["edges"] = Catalog.Lines.Select(l => l.EdgeKeV).ToArray(),
        };
        var lineProb = new float[Spectra][];
        var elementProb = new float[Spectra][];
        var yLines = new int[Spectra][];
        var yElements = new int[Spectra][];
        var yPaper = new int[Spectra][];
        var inSampleRows = new int[Spectra][];
        var ignoreRows = new int[Spectra][];
        var tubeKv = new double[Spectra];
        var anodeIndex = new int[Spectra];
        for (var s = 0; s < Spectra; s++)
        {
            var anode = anodes[random.Next(anodes.Length)];
            var kv = voltages[random.Next(voltages.Length)];
            var present = Pick(random, random.Next(0, 6));
            var inSample = present.Concat(Pick(random, random.Next(0, 4))).ToHashSet();
            if (anode is not null && Catalog.ElementIndex(anode) >= 0 && random.Next(3) == 0)
            {
                inSample.Add(anode); // an anode in the sample: scored by the paper protocol only
            }

            if (random.Next(10) == 0)
            {
                inSample.Add("Ar");
            }

            var ignore = new HashSet<string> { "Ar" };
            if (anode is not null && Catalog.ElementIndex(anode) >= 0)
            {
                ignore.Add(anode);
            }

            ignore.UnionWith(inSample.Where(e => !present.Contains(e) && random.Next(2) == 0)); // undetectable in-sample
            present.ExceptWith(ignore);
            var trueLines = Catalog.Lines.Where(l => present.Contains(l.Element) && random.Next(3) > 0).Select(l => l.Name).ToHashSet();
            // Outputs: high where true (mostly), low elsewhere with some false highs; 1/64 steps make ties.
            var lp = Catalog.Lines.Select(l => Step(trueLines.Contains(l.Name) || inSample.Contains(l.Element) ? random.NextDouble() : Math.Pow(random.NextDouble(), 4))).ToArray();
            var ep = Catalog.Elements.Select(e => Step(present.Contains(e.Symbol) ? 0.3 + (0.7 * random.NextDouble()) : Math.Pow(random.NextDouble(), 3))).ToArray();
            var result = decoder.Decode(string.Create(CultureInfo.InvariantCulture, $"s{s}"), lp, ep, kv, anode);
            evaluator.Add(new EvaluationSample
            {
                Result = result,
                ElementScores = IdentificationEvaluator.ElementScores(result, ep),
                Elements = present,
                Lines = trueLines,
                IgnoreElements = ignore,
                ElementsInSample = inSample,
            });
            lineProb[s] = lp;
            elementProb[s] = ep;
            yLines[s] = Catalog.Lines.Select(l => trueLines.Contains(l.Name) ? 1 : 0).ToArray();
            yElements[s] = Catalog.Elements.Select(e => present.Contains(e.Symbol) ? 1 : 0).ToArray();
            yPaper[s] = Catalog.Lines.Select(l => inSample.Contains(l.Element) ? 1 : 0).ToArray();
            inSampleRows[s] = Catalog.Elements.Select(e => inSample.Contains(e.Symbol) ? 1 : 0).ToArray();
            ignoreRows[s] = Catalog.Elements.Select(e => ignore.Contains(e.Symbol) ? 1 : 0).ToArray();
            tubeKv[s] = kv ?? 0.0; // xrftrain: a kV that is not positive is unknown (not checked), as C#'s null
            anodeIndex[s] = anode is null ? -1 : Catalog.ElementIndex(anode); // W: not in the catalogue, -1
        }

        python["line_prob"] = lineProb;
        python["element_prob"] = elementProb;
        python["y_lines"] = yLines;
        python["y_elements"] = yElements;
        python["y_lines_paper"] = yPaper;
        python["in_sample"] = inSampleRows;
        python["ignore"] = ignoreRows;
        python["tube_kv"] = tubeKv;
        python["anode"] = anodeIndex;

        using var reference = RunPython(JsonSerializer.Serialize(python));
        var root = reference.RootElement;
        Same("elements", evaluator.Elements, root.GetProperty("elements"));
        Same("lines", evaluator.Lines, root.GetProperty("lines"));
        Same("paper_lines", evaluator.PaperLines, root.GetProperty("paper_lines"));
        Assert.Equal(root.GetProperty("elements").GetProperty("top1_spectra").GetInt64(), evaluator.Top1Spectra);
        Assert.Equal(root.GetProperty("elements").GetProperty("top1").GetDouble(), evaluator.GuessRatioTop1, 12);
        // The cases must reach the rules they are meant to test, or agreement proves little.
        Assert.True(evaluator.PaperLines.TruePositives > 0 && evaluator.Elements.FalsePositives > 0 && evaluator.Top1Spectra < Spectra);
    }

    private static float Step(double p) => MathF.Round((float)p * 64) / 64;

    private static HashSet<string> Pick(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => Catalog.Elements[random.Next(Catalog.Elements.Count)].Symbol).ToHashSet();

    private static void Same(string level, BinaryMetrics actual, JsonElement expected)
    {
        Assert.Equal(
            (expected.GetProperty("tp").GetInt64(), expected.GetProperty("fp").GetInt64(), expected.GetProperty("fn").GetInt64(), expected.GetProperty("tn").GetInt64()),
            (actual.TruePositives, actual.FalsePositives, actual.FalseNegatives, actual.TrueNegatives));
        foreach (var (name, value) in new[] { ("sensitivity", actual.Sensitivity), ("specificity", actual.Specificity), ("precision", actual.Precision), ("f1", actual.F1), ("accuracy", actual.Accuracy), ("pearson", actual.Pearson) })
        {
            var reference = expected.GetProperty(name);
            if (reference.ValueKind == JsonValueKind.Null)
            {
                Assert.True(double.IsNaN(value), $"{level}.{name}: C# {value}, Python NaN");
            }
            else
            {
                // Pearson: one-pass sums (C#) vs NumPy's two-pass corrcoef; 1e-9 is far above either's rounding here.
                Assert.True(Math.Abs(reference.GetDouble() - value) <= 1e-9, string.Create(CultureInfo.InvariantCulture, $"{level}.{name}: C# {value}, Python {reference.GetDouble()}"));
            }
        }
    }

    private static JsonDocument RunPython(string input) => JsonDocument.Parse(DebianPython.Run(Script, input, "xrftrain.metrics"));
}

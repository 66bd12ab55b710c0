using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using XrfEdge.Devices.Formats;
using XrfEdge.Inference;
using XrfEdge.Inference.Evaluation;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge eval --input FILE.jsonl [--model FILE] [--json] [--threshold-scale X] [--above-trained-counts P] [--anode A]</c>: identifies
/// every labelled spectrum and prints the metrics of docs/inference.md ("eval"); the JSON form is what training reports
/// consume. <c>--anode</c> names the tube anode of spectra whose line names none, as the product would be told it.
/// SIGINT/SIGTERM stop it between spectra, with no metrics written (exit 130); a standard output whose reader has gone
/// gives exit 141.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "Labelled spectra (.jsonl with elements / lines / ignore_elements / elements_in_sample)", Required = true };
        var model = InferenceCli.ModelOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object (schema in docs/inference.md) instead of a report" };
        var scale = InferenceCli.ThresholdScaleOption();
        var countRange = InferenceCli.CountRangeOption();
        var anode = InferenceCli.AnodeOption();
        var command = new Command("eval", "Score the identifier on labelled spectra: element and line metrics, guess ratio, per-element results, confusions, speed")
        {
            input, model, json, scale, countRange, anode,
        };
        // SIGINT/SIGTERM stop it between spectra with exit 130 (until 2026-11-24 the runtime killed it without a word).
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(
            token => Task.FromResult(Run(parse.GetValue(input)!, parse.GetValue(model), parse.GetValue(json), parse.GetValue(scale), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, parse.GetValue(countRange), parse.GetValue(anode), token)),
            ct));
        return command;
    }

    internal static int Run(string inputPath, string? modelGiven, bool asJson, double thresholdScale, TextWriter output, TextWriter error, CountRangePolicy countRange = CountRangePolicy.ScaleDown, string? anode = null, CancellationToken cancellationToken = default)
    {
        // As identify's: a report its reader closed the pipe on is no success (exit 0 until 2026-11-24).
        return PipeStandardOutput.Run("eval", error, () => Evaluate(inputPath, modelGiven, asJson, thresholdScale, output, error, countRange, anode, cancellationToken));
    }

    private static int Evaluate(string inputPath, string? modelGiven, bool asJson, double thresholdScale, TextWriter output, TextWriter error, CountRangePolicy countRange, string? anode, CancellationToken cancellationToken)
    {
        if (InferenceCli.TryOpenForVerb("eval", modelGiven, thresholdScale, error) is not { } opened)
        {
            return InferenceCli.ExitUnusable;
        }

        using var loggers = opened.Loggers;
        using var encoder = opened.Encoder;

        var identifier = new SpectrumIdentifier(encoder, thresholdScale, countRangePolicy: countRange);
        var evaluator = new IdentificationEvaluator();
        var catalog = LineCatalog.Default;
        // Only the first errors are printed; the rest are counted, so a file of nothing but bad lines costs bounded memory.
        const int PrintedErrors = 20;
        var errors = new List<string>(PrintedErrors);
        long errorCount = 0;
        var batch = new List<LabelledSpectrum>(SpectrumIdentifier.MaxBatchSize);
        var head = new float[SpectrumIdentifier.MaxBatchSize * catalog.Elements.Count];
        var results = new Identification[SpectrumIdentifier.MaxBatchSize];
        // Labels the catalogue does not know (a Siegbahn "Fe-Ka1", another catalogue's line, an element the model has no
        // output for) match nothing: a true line so named is never a true positive and never a miss. Counted and reported,
        // so that a label set built against another catalogue cannot pass as a weak model, nor the reverse.
        var outside = new UnknownLabels(catalog);
        long unlabelled = 0;
        var clock = Stopwatch.StartNew();
        void Flush()
        {
            if (batch.Count == 0)
            {
                return;
            }

            var raw = batch.Select(b => b.Spectrum).ToArray();
            identifier.Identify(raw, results.AsSpan(0, raw.Length), encoder.HasElementHead ? head.AsSpan(0, raw.Length * catalog.Elements.Count) : []);
            for (var i = 0; i < raw.Length; i++)
            {
                var labelled = batch[i];
                var headRow = encoder.HasElementHead ? head.AsSpan(i * catalog.Elements.Count, catalog.Elements.Count) : [];
                evaluator.Add(new EvaluationSample
                {
                    Result = results[i],
                    ElementScores = IdentificationEvaluator.ElementScores(results[i], headRow, catalog),
                    Elements = labelled.Elements,
                    Lines = labelled.Lines,
                    IgnoreElements = labelled.IgnoreElements ?? [],
                    ElementsInSample = labelled.ElementsInSample,
                });
            }

            batch.Clear();
        }

        var input = new InterruptibleInput(cancellationToken);
        foreach (var item in input.Read(SpectrumFileReader.ReadAll(inputPath, new SpectrumReadOptions { FallbackAnode = anode })))
        {
            if (item.Spectrum is null)
            {
                if (errorCount++ < PrintedErrors)
                {
                    errors.Add(item.Error!);
                }

                continue;
            }

            if (item.Spectrum is { Elements: null, Lines: null, ElementsInSample: null })
            {
                unlabelled++;
            }

            outside.Add(item.Spectrum);
            batch.Add(item.Spectrum);
            if (batch.Count == SpectrumIdentifier.MaxBatchSize)
            {
                Flush();
            }
        }

        // Named before an interruption too: they were met in the part read.
        foreach (var problem in errors)
        {
            error.WriteLine($"xrfedge eval: skipped {problem}");
        }

        if (errorCount > errors.Count)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge eval: skipped {errorCount - errors.Count} more unreadable spectra"));
        }

        if (input.Interrupted)
        {
            // Metrics of part of the file would pass for the whole file's (training reports read the JSON): none at all.
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge eval: interrupted after {evaluator.Spectra + batch.Count} spectra; no metrics written (they would cover only part of {inputPath})"));
            return SynthCommand.InterruptedExitCode;
        }

        Flush();
        clock.Stop();
        var perSecond = evaluator.Spectra / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        // With none read there are no others: "no readable spectrum" below says so (until 2026-11-24 this line claimed
        // that metrics covered "the others" of a file that could not even be opened).
        if (errorCount > 0 && evaluator.Spectra > 0)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge eval: {errorCount} of {errorCount + evaluator.Spectra} spectra could not be read and were skipped; the metrics cover the others"));
        }

        if (unlabelled > 0 && unlabelled < evaluator.Spectra)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge eval: {unlabelled} of {evaluator.Spectra} spectra carry no labels (elements, lines, elements_in_sample) and are not scored"));
        }

        if (outside.Elements + outside.Lines > 0)
        {
            error.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"xrfedge eval: labels name {outside.Elements} elements and {outside.Lines} lines outside the model's catalogue (e.g. {string.Join(", ", outside.Examples)}); they match no output and are not scored (IUPAC line names such as Fe-KL3, catalogue {catalog.Hash[..12]})"));
        }

        if (asJson)
        {
            InferenceCli.PrintJson(output, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("input", inputPath);
                InferenceCli.WriteModel(writer, encoder);
                writer.WriteNumber("threshold_scale", thresholdScale);
                writer.WriteNumber("errors", errorCount);
                writer.WriteNumber("unlabelled", unlabelled);
                writer.WriteStartObject("labels_outside_catalog");
                writer.WriteNumber("elements", outside.Elements);
                writer.WriteNumber("lines", outside.Lines);
                writer.WriteEndObject();
                evaluator.WriteJson(writer, perSecond);
                writer.WriteEndObject();
            });
        }
        else
        {
            WriteReport(output, evaluator, encoder, inputPath, errorCount, perSecond);
        }

        if (evaluator.Spectra == 0)
        {
            error.WriteLine($"xrfedge eval: no readable spectrum in {inputPath}");
            return InferenceCli.ExitUnusable;
        }

        if (unlabelled == evaluator.Spectra)
        {
            // Every metric is then null: exit 0 would let a pipeline take an unlabelled file for a passed evaluation.
            error.WriteLine($"xrfedge eval: no spectrum in {inputPath} carries labels (elements, lines or elements_in_sample): nothing to score");
            return InferenceCli.ExitUnusable;
        }

        return errorCount == 0 ? 0 : InferenceCli.ExitSomeFailed;
    }

    private static void WriteReport(TextWriter o, IdentificationEvaluator e, LineEncoder encoder, string input, long errors, double perSecond)
    {
        static string F(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "  —   ";
        o.WriteLine($"eval {input}: {e.Spectra} spectra ({errors} unreadable), model {encoder.Identity.Name} {encoder.Identity.Version} ({encoder.Identity.Precision})");
        o.WriteLine("level                    pairs      sens    spec    prec    F1      acc     pearson");
        void Row(string name, BinaryMetrics m, long spectra)
        {
            if (spectra > 0)
            {
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-22} {m.Pairs,8}  {F(m.Sensitivity)}  {F(m.Specificity)}  {F(m.Precision)}  {F(m.F1)}  {F(m.Accuracy)}  {F(m.Pearson)}"));
            }
        }

        Row("element", e.Elements, e.SpectraWithElementLabels);
        Row("line", e.Lines, e.SpectraWithLineLabels);
        Row("paper element", e.PaperElements, e.SpectraWithSampleComposition);
        Row("paper line", e.PaperLines, e.SpectraWithSampleComposition);
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"guess ratio: element recall {F(e.GuessRatioRecall)}, top-1 hit rate {F(e.GuessRatioTop1)} over {e.Top1Spectra} spectra with a true element"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"speed: {perSecond:F0} spectra/s (read, rebin, infer, decode)"));
        o.WriteLine("per element (support > 0 or reported):  symbol  support  precision  recall");
        foreach (var c in e.PerElement().Where(c => c.Support > 0 || c.FalsePositives > 0))
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {c.Symbol,-3} {c.Support,7}  {F(c.Precision)}  {F(c.Recall)}"));
        }

        var confusions = e.MainConfusions();
        if (confusions.Count > 0)
        {
            o.WriteLine("main confusions (reported but absent ← present element with an overlapping line):");
            foreach (var c in confusions)
            {
                o.WriteLine($"    {c.Reported} ← {c.Actual}: {c.Count}");
            }
        }
    }

    /// <summary>Counts ground-truth names of <c>elements</c> and <c>lines</c> that the catalogue does not hold.</summary>
    private sealed class UnknownLabels(LineCatalog catalog)
    {
        private const int MaxExamples = 5;
        private readonly List<string> _examples = [];

        public long Elements { get; private set; }

        public long Lines { get; private set; }

        public IReadOnlyList<string> Examples => _examples;

        public void Add(LabelledSpectrum spectrum)
        {
            foreach (var symbol in spectrum.Elements ?? [])
            {
                if (catalog.ElementIndex(symbol) < 0)
                {
                    Elements++;
                    Note(symbol);
                }
            }

            foreach (var name in spectrum.Lines ?? [])
            {
                if (!catalog.TryGetLine(name, out _))
                {
                    Lines++;
                    Note(name);
                }
            }
        }

        private void Note(string name)
        {
            if (_examples.Count < MaxExamples && !_examples.Contains(name))
            {
                _examples.Add(name);
            }
        }
    }
}

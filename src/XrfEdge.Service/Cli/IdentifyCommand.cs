using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Devices.Formats;
using XrfEdge.Inference;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge identify FILE… | --input FILE… [--model FILE] [--json] [--threshold-scale X] [--above-trained-counts P] [--anode A]
/// [--format F] [--offset-kev X --gain-kev-per-channel Y [--quadratic-kev-per-channel2 Z]] [--negative-counts N]</c>:
/// identifies every spectrum of every file (.jsonl, .mca, .spe, .msa, .csv), one result per spectrum in input order; a
/// spectrum that cannot be read is named on stderr (file, line, problem; with <c>--json</c> also as an <c>{"id","error"}</c>
/// row), the rest is still processed, and stderr ends with how many could not be read (exit 1). SIGINT/SIGTERM stop it
/// between spectra, with the results of those read written (exit 130). A standard output whose reader has gone (a pipe
/// into <c>head</c>) ends it at the first result it cannot write (exit 141). A spectrum outside the
/// model's trained count range is flagged (and, above it, scaled into it unless P is Report). Elements the model does
/// not assess (Ar; the tube anode, from the file or <c>--anode</c>) are never reported and are listed as such. A FILE of
/// <c>-</c> is standard input (a pipe or a redirected file, not a terminal), read once.
/// </summary>
internal static class IdentifyCommand
{
    /// <summary>Most read results (spectra and errors) held before they are written: four model batches.</summary>
    private const int MaxPending = 4 * SpectrumIdentifier.MaxBatchSize;

    /// <summary>
    /// How long the input may be quiet, with spectra read and not yet identified, before they are identified anyway: a
    /// live pipe's results come this soon after its lines; a file, read faster than that, still goes in full batches.
    /// </summary>
    internal static readonly TimeSpan QuietFlush = TimeSpan.FromMilliseconds(50);

    /// <summary>The FILE that names standard input, as for cat, grep and tar.</summary>
    internal const string StandardInputName = "-";

    /// <summary>How spectra read from standard input are named in messages and, for a single-spectrum format, as their id.</summary>
    internal const string StandardInputSource = "stdin";

    public static Command Create()
    {
        var input = new Option<string[]>("--input", "-i")
        {
            Description = "Spectrum file(s): .jsonl, .mca, .spe, .msa, .csv, or - for standard input (or name them without --input)",
            AllowMultipleArgumentsPerToken = true,
        };

        // `xrfedge identify FILE…` as an operator types it; until 2026-11-24 only --input was taken and a bare file name
        // was "Unrecognized command or argument".
        var files = new Argument<string[]>("FILE")
        {
            Description = "Spectrum file(s), as --input; - reads standard input",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var model = InferenceCli.ModelOption();
        var json = new Option<bool>("--json") { Description = "One JSON object per spectrum (spectra-jsonl.md, \"Identification output\") instead of a table" };
        var scale = InferenceCli.ThresholdScaleOption();
        var countRange = InferenceCli.CountRangeOption();
        var anode = InferenceCli.AnodeOption();
        var command = new Command("identify", "Identify the elements and emission lines in spectrum files") { files, input, model, json, scale, countRange, anode };
        command.Validators.Add(result =>
        {
            string[] named = [.. result.GetValue(files) ?? [], .. result.GetValue(input) ?? []];
            if (named.Length == 0)
            {
                result.AddError("no spectrum file given: xrfedge identify FILE… or --input FILE…");
            }

            // FILE… and --input take any token the parser does not know, so a misspelt option and its value became two
            // file names and the spectra were identified without it (until 2026-11-24: `--thresold-scale 0.8` ran at 1).
            foreach (var name in named.Where(n => n.Length > 1 && n[0] == '-'))
            {
                result.AddError($"unrecognized option '{name}' (a spectrum file whose name begins with '-' is named ./{name})");
            }

            // Standard input can be read once; the second '-' would have been reported as a file holding no spectra.
            if (named.Count(n => n == StandardInputName) > 1)
            {
                result.AddError("'-' (standard input) is named more than once; it can be read only once (a file named '-' is ./-)");
            }
        });
        var reading = new SpectrumInputOptions();
        reading.AddReadOptionsTo(command);
        // SIGINT/SIGTERM stop the verb between spectra (exit 130); without a token the runtime killed it at once and the
        // spectra read but not yet written were lost without a word (until 2026-11-24).
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(
            token =>
            {
                string[] named = [.. parse.GetValue(files) ?? [], .. parse.GetValue(input) ?? []];
                // A terminal is no spectrum source: Run refuses '-' then rather than wait for typed input. A quiet pipe's
                // read ends at the token, so Ctrl-C needs no further line from the writer; disposing gives the pipe back
                // as it was found (blocking).
                using var standardInput = named.Contains(StandardInputName) && Console.IsInputRedirected ? CancellableStandardInput.Open(token) : null;
                return Task.FromResult(Run(
                    named,
                    parse.GetValue(model),
                    parse.GetValue(json),
                    parse.GetValue(scale),
                    parse.InvocationConfiguration.Output,
                    parse.InvocationConfiguration.Error,
                    parse.GetValue(countRange),
                    reading.ReadOptions(parse) with { FallbackAnode = parse.GetValue(anode) },
                    standardInput,
                    token));
            },
            ct));
        return command;
    }

    internal static int Run(
        string[] inputs,
        string? modelGiven,
        bool asJson,
        double thresholdScale,
        TextWriter output,
        TextWriter error,
        CountRangePolicy countRange = CountRangePolicy.ScaleDown,
        SpectrumReadOptions? readOptions = null,
        Stream? standardInput = null,
        CancellationToken cancellationToken = default)
    {
        // `identify many.jsonl | head -1`: the first result nobody can read ends the run, the rest of the input unread.
        return PipeStandardOutput.Run("identify", error, () => Identify(inputs, modelGiven, asJson, thresholdScale, output, error, countRange, readOptions, standardInput, cancellationToken));
    }

    private static int Identify(
        string[] inputs,
        string? modelGiven,
        bool asJson,
        double thresholdScale,
        TextWriter output,
        TextWriter error,
        CountRangePolicy countRange,
        SpectrumReadOptions? readOptions,
        Stream? standardInput,
        CancellationToken cancellationToken)
    {
        // Until 2026-11-24 '-' was taken for a file of that name: "-: cannot open file: Could not find file '/…/-'", exit 1.
        if (standardInput is null && inputs.Contains(StandardInputName))
        {
            error.WriteLine("xrfedge identify: '-' reads spectra from standard input, which is a terminal here; pipe or redirect them in (xrfedge identify - < FILE), or name the file (a file named '-' is ./-)");
            return InferenceCli.ExitUnusable;
        }

        if (InferenceCli.TryOpenForVerb("identify", modelGiven, thresholdScale, error) is not { } opened)
        {
            return InferenceCli.ExitUnusable;
        }

        using var loggers = opened.Loggers;
        using var encoder = opened.Encoder;

        var identifier = new SpectrumIdentifier(encoder, thresholdScale, countRangePolicy: countRange);
        if (!asJson)
        {
            output.WriteLine($"model {encoder.Identity.Name} {encoder.Identity.Version} ({encoder.Identity.Precision}), threshold scale {thresholdScale.ToString(CultureInfo.InvariantCulture)}");
        }

        var failures = 0;
        var records = 0;
        var identified = 0;
        var pending = new List<SpectrumReadResult>(SpectrumIdentifier.MaxBatchSize);
        var valid = new List<RawSpectrum>(SpectrumIdentifier.MaxBatchSize);
        void Flush()
        {
            var results = identifier.Identify(valid);
            var next = 0;
            foreach (var item in pending)
            {
                if (item.Spectrum is null)
                {
                    // stderr, naming the file and line: a script reading the table from stdout must get results only
                    // (until 2026-11-24 "id: ERROR …" came among them). --json keeps its documented {"id","error"} row
                    // as well: the ship check (training/xrftrain/report.py) counts it as a failed real file.
                    error.WriteLine("xrfedge identify: " + SpectrumJsonl.EscapeControlCharacters(item.Error!));
                    if (asJson)
                    {
                        var where = item.LineNumber > 0 ? $"{Path.GetFileName(item.Source)}:{item.LineNumber}" : Path.GetFileName(item.Source);
                        Write(output, asJson, item.Id ?? where, null, item.Error);
                    }
                }
                else
                {
                    Write(output, asJson, item.Spectrum.Spectrum.Id, results[next++], null, item.Spectrum.Spectrum.Excitation?.Anode);
                    identified++;
                }
            }

            pending.Clear();
            valid.Clear();
        }

        var input = new InterruptibleInput(cancellationToken);
        IEnumerable<SpectrumReadResult> ReadInputs()
        {
            foreach (var file in inputs)
            {
                if (input.StopBeforeNext())
                {
                    yield break;
                }

                var spectraInFile = 0;
                // Both read lazily, one spectrum (one .jsonl line) at a time: memory does not grow with the input.
                var items = file == StandardInputName
                    ? SpectrumFileReader.Read(standardInput!, StandardInputSource, readOptions)
                    : SpectrumFileReader.ReadAll(file, readOptions);
                foreach (var item in input.Read(items))
                {
                    spectraInFile++;
                    yield return item;
                }

                if (spectraInFile == 0 && !input.Interrupted)
                {
                    // An empty (or all-blank) .jsonl: say so, as rebin and eval do, rather than print nothing and exit 0.
                    yield return SpectrumReadResult.Failure(file == StandardInputName ? StandardInputSource : file, 0, null, "the file holds no spectra");
                }
            }
        }

        // Read on a thread of its own, a batch ahead: a batch goes to the model when it is full, and also when the input
        // goes quiet with spectra waiting (a live pipe), so each spectrum's result comes within QuietFlush of its line.
        using var reading = new ReadAhead<SpectrumReadResult>(ReadInputs(), SpectrumIdentifier.MaxBatchSize, cancellationToken);
        while (true)
        {
            var next = reading.Next(pending.Count > 0 ? QuietFlush : Timeout.InfiniteTimeSpan, out var item);
            if (next == ReadAheadResult.End)
            {
                break;
            }

            if (next == ReadAheadResult.Quiet)
            {
                Flush();
                continue;
            }

            records++;
            pending.Add(item);
            if (item.Spectrum is null)
            {
                failures++;
                // Results go out in input order, so an error waits for the spectra before it; without this bound a
                // file of nothing but bad lines (a binary file with line breaks) held every error until its end.
                if (pending.Count >= MaxPending)
                {
                    Flush();
                }
            }
            else
            {
                valid.Add(item.Spectrum.Spectrum);
                if (valid.Count == SpectrumIdentifier.MaxBatchSize)
                {
                    Flush();
                }
            }
        }

        // What was read before a signal is still identified and written: whole results, never half a line.
        Flush();
        if (failures > 0)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge identify: {failures} of {records} spectra could not be read (named above); the others were identified"));
        }

        // A reader given up inside a read (a FIFO named as a FILE waits for its writer's next line) left input unread too.
        if (input.Interrupted || reading.Abandoned)
        {
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"xrfedge identify: interrupted after {identified} spectra; their results are written above, the rest of the input was not read"));
            return SynthCommand.InterruptedExitCode;
        }

        return failures == 0 ? 0 : InferenceCli.ExitSomeFailed;
    }

    private static void Write(TextWriter output, bool asJson, string id, Identification? result, string? problem, string? anode = null)
    {
        if (asJson)
        {
            InferenceCli.PrintJson(output, writer => WriteJson(writer, id, result, problem));
            return;
        }

        // The table goes to a terminal: a spectrum id (any JSON string in a .jsonl) could carry an ESC sequence that
        // retitles or clears it (printed raw until 2026-11-24). JSON output escapes control characters by itself.
        id = SpectrumJsonl.EscapeControlCharacters(id);
        if (result is null)
        {
            output.WriteLine($"{id}: ERROR {problem}");
            return;
        }

        output.WriteLine(result.Elements.Count == 0
            ? $"{id}: no element identified"
            : $"{id}: {string.Join(", ", result.Elements.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Symbol} {e.Probability:F3}")))}");
        foreach (var element in result.Elements)
        {
            output.WriteLine($"    {element.Symbol,-3} lines: {string.Join(", ", element.SupportingLines)}");
        }

        if (result.NotAssessed.Count > 0)
        {
            output.WriteLine($"    not assessed: {string.Join(", ", result.NotAssessed.Select(s => NotAssessedReason(s, anode)))}");
        }

        if (InputCountsJson.Warning(result.Counts) is { } warning)
        {
            output.WriteLine($"    note: {warning}");
        }

        if (EnergyCoverageJson.Warning(result.Coverage) is { } coverage)
        {
            output.WriteLine($"    note: {coverage}");
        }
    }

    /// <summary>"Rh (tube anode)", "Ar (argon from air, never trained)": why the model does not assess <paramref name="symbol"/>.</summary>
    private static string NotAssessedReason(string symbol, string? anode) =>
        symbol == anode ? $"{symbol} (tube anode)" : Decoder.AlwaysNotAssessed.Contains(symbol) ? $"{symbol} (argon from air, never trained)" : symbol;

    /// <summary>The identify --json object of one spectrum (spectra-jsonl.md, "Identification output").</summary>
    internal static void WriteJson(Utf8JsonWriter writer, string id, Identification? result, string? problem)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        if (result is null)
        {
            writer.WriteString("error", problem);
            writer.WriteEndObject();
            return;
        }

        writer.WriteStartArray("elements");
        foreach (var element in result.Elements)
        {
            writer.WriteStartObject();
            writer.WriteString("symbol", element.Symbol);
            writer.WriteNumber("probability", Math.Round(element.Probability, 4));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("lines");
        foreach (var line in result.Lines)
        {
            writer.WriteStartObject();
            writer.WriteString("name", line.Line.Name);
            writer.WriteNumber("energy_kev", Math.Round(line.Line.EnergyKeV, 4));
            writer.WriteNumber("probability", Math.Round(line.Probability, 4));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("not_assessed");
        foreach (var symbol in result.NotAssessed)
        {
            writer.WriteStringValue(symbol);
        }

        writer.WriteEndArray();
        InputCountsJson.Write(writer, result.Counts);
        EnergyCoverageJson.Write(writer, result.Coverage);
        writer.WriteEndObject();
    }
}

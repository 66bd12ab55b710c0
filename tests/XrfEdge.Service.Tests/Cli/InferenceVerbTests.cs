using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Service.Cli;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>The identify / eval / model inspect verbs end to end on the fixed-seed test encoder and the real ORT.</summary>
public sealed class InferenceVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-verbs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The int8 test encoder of scripts/models/make_test_model.py.</summary>
    private static string TestModel => RepositoryRoot.TestModel;

    /// <summary>Writes a .jsonl with <paramref name="count"/> benchmark spectra labelled Fe+Cu (Rh ignored), and optionally one corrupt line after the first.</summary>
    private string Jsonl(int count, bool corrupt)
    {
        var path = Path.Combine(_dir, "set.jsonl");
        using var writer = new StreamWriter(path);
        var spectra = BenchmarkSpectra.Create(count, seed: 3);
        for (var i = 0; i < count; i++)
        {
            SpectrumJsonl.Write(writer, new LabelledSpectrum(spectra[i])
            {
                Elements = ["Fe", "Cu"],
                Lines = ["Fe-KL3", "Cu-KL3"],
                IgnoreElements = ["Rh", "Ar"],
                ElementsInSample = ["Fe", "Cu", "C"],
            });
            if (i == 0 && corrupt)
            {
                writer.WriteLine("{\"id\":\"broken\",\"counts\":[1,2,");
            }
        }

        return path;
    }

    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exit = XrfEdgeCommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString() + error.ToString());
    }

    [Fact]
    public void Identify_SpectrumIdWithControlCharacters_TablePrintsThemEscaped()
    {
        // A .jsonl id is any JSON string: "\u001b]0;owned\u0007" retitled the operator's terminal when the table printed
        // it raw. Reader errors already escaped control characters (since 2026-11-24); the table now does too.
        var path = Path.Combine(_dir, "ids.jsonl");
        using (var writer = new StreamWriter(path))
        {
            SpectrumJsonl.Write(writer, new LabelledSpectrum(BenchmarkSpectra.Create(1, seed: 3)[0] with { Id = "A\u001b]0;owned\u0007B" }));
        }

        var (code, output) = Invoke("identify", path, "--model", TestModel);

        Assert.Equal(0, code);
        Assert.False(output.Any(c => char.IsControl(c) && c is not '\n' and not '\r'), "a control character reached the terminal");
        Assert.Contains("A\\u001B]0;owned\\u0007B", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_EmptyJsonl_IsAnErrorNotSilence()
    {
        var empty = Path.Combine(_dir, "empty.jsonl");
        File.WriteAllText(empty, "\n  \n");

        var (code, output) = Invoke("identify", "--input", empty, "--model", TestModel, "--json");

        Assert.Equal(1, code);
        // Invoke gives stdout then stderr (which names it too, since 2026-11-24): the row is the first line.
        using var line = JsonDocument.Parse(output.Split('\n')[0]);
        Assert.Equal($"{empty}: the file holds no spectra", line.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public void Identify_CountsOnlyCsv_TakesTheCalibrationTheErrorAsksFor()
    {
        var csv = Path.Combine(_dir, "counts.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 300).Select(c => (c % 9).ToString(CultureInfo.InvariantCulture)));

        var (without, asked) = Invoke("identify", "--input", csv, "--model", TestModel, "--json");
        var (with, identified) = Invoke("identify", "--input", csv, "--offset-kev", "0.05", "--gain-kev-per-channel", "0.1", "--model", TestModel, "--json");

        Assert.Equal(1, without);
        Assert.Contains("give one with --offset-kev and --gain-kev-per-channel", asked, StringComparison.Ordinal);
        Assert.Equal(0, with);
        using var line = JsonDocument.Parse(identified.Trim());
        Assert.Equal("counts", line.RootElement.GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Array, line.RootElement.GetProperty("elements").ValueKind);
    }

    /// <summary>A counts-only CSV of <paramref name="channels"/> 0.1 keV channels from 0 keV: it ends at channels/10 keV.</summary>
    private string ShortCsv(int channels)
    {
        var csv = Path.Combine(_dir, $"short{channels}.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, channels).Select(c => (20 + (c % 9)).ToString(CultureInfo.InvariantCulture)));
        return csv;
    }

    /// <summary>
    /// The test encoder copied with a card that states trained full scales of 20–60 keV and discriminators of 0.2–1.2 keV
    /// (m.int8.onnx, m.card.json).
    /// </summary>
    private string TestModelWithFullScale()
    {
        var model = Path.Combine(_dir, "m.int8.onnx");
        File.Copy(TestModel, model);
        var card = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(TestModel)!, "test-encoder.card.json")))!;
        card["files"]!["int8"]!["path"] = "m.int8.onnx";
        card["trained_full_scale_kev"] = new System.Text.Json.Nodes.JsonObject { ["min"] = 20.0, ["max"] = 60.0 };
        card["trained_lower_threshold_kev"] = new System.Text.Json.Nodes.JsonObject { ["min"] = 0.2, ["max"] = 1.2 };
        File.WriteAllText(Path.Combine(_dir, "m.card.json"), card.ToJsonString());
        return model;
    }

    /// <summary>
    /// Identifies <paramref name="csv"/> (0.1 keV channels from <paramref name="offsetKeV"/>) with <paramref name="model"/>
    /// twice, as --json and as the table, asserting both succeed: the json's "coverage" object and the table.
    /// </summary>
    private static (JsonElement Coverage, string Table) IdentifyCoverage(string csv, string offsetKeV, string model)
    {
        var (code, json) = Invoke("identify", "--input", csv, "--offset-kev", offsetKeV, "--gain-kev-per-channel", "0.1", "--model", model, "--json");
        var (tableCode, table) = Invoke("identify", "--input", csv, "--offset-kev", offsetKeV, "--gain-kev-per-channel", "0.1", "--model", model);
        Assert.Equal(0, code);
        Assert.Equal(0, tableCode);
        using var line = JsonDocument.Parse(json.Trim());
        return (line.RootElement.GetProperty("coverage").Clone(), table);
    }

    [Fact]
    public void Identify_15keVSpectrumTrainedFrom20_JsonAndTableSayBelowTrained()
    {
        var csv = ShortCsv(150);
        var model = TestModelWithFullScale();

        var (coverage, table) = IdentifyCoverage(csv, "0.05", model);

        Assert.Equal(15.0, coverage.GetProperty("upper_kev").GetDouble());
        Assert.Equal(20.0, coverage.GetProperty("trained_min_kev").GetDouble());
        Assert.Equal("below_trained", coverage.GetProperty("status").GetString());
        Assert.Contains("note: spectrum ends at 15.0 keV, below the 20 keV full scale the model was trained on", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_SpectrumStartingAt5keV_JsonAndTableSayAboveTrained()
    {
        var csv = ShortCsv(300); // 300 channels of 0.1 keV from 5 keV: the grid below 5 keV is fed as zeros
        var model = TestModelWithFullScale();

        var (coverage, table) = IdentifyCoverage(csv, "5.05", model);

        Assert.Equal(5.0, coverage.GetProperty("lower_kev").GetDouble());
        Assert.Equal(1.2, coverage.GetProperty("trained_max_start_kev").GetDouble());
        Assert.Equal("above_trained", coverage.GetProperty("lower_status").GetString());
        Assert.Equal("full", coverage.GetProperty("status").GetString());
        Assert.Contains("note: spectrum starts at 5.0 keV, above the 1.2 keV up to which the model's training spectra started", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_CardWithoutFullScale_JsonReportsCoverageWithoutVerdict()
    {
        var (code, json) = Invoke("identify", "--input", ShortCsv(250), "--offset-kev", "0.05", "--gain-kev-per-channel", "0.1", "--model", TestModel, "--json");

        Assert.Equal(0, code);
        using var line = JsonDocument.Parse(json.Trim());
        var coverage = line.RootElement.GetProperty("coverage");
        Assert.Equal(25.0, coverage.GetProperty("upper_kev").GetDouble());
        Assert.Equal(JsonValueKind.Null, coverage.GetProperty("trained_min_kev").ValueKind);
        Assert.Equal("partial_unrated", coverage.GetProperty("status").GetString());
    }

    [Fact]
    public void Identify_LineWithACalibrationTheLimitsRefuse_ErrorNamingItAndTheOthersIdentified()
    {
        // SpectrumIdentifier fails a whole call for one spectrum with an unusable calibration (its documented contract,
        // 2026-11-24); identify must never hand it one. A line as `outbox export` writes a stored spectrum whose
        // calibration the limits refuse (5 keV/channel, above the 2 keV/channel maximum) sits between two good ones.
        var path = Path.Combine(_dir, "exported.jsonl");
        var spectra = BenchmarkSpectra.Create(3, seed: 3);
        using (var stream = File.Create(path))
        {
            SpectrumJsonl.Write(stream, new LabelledSpectrum(spectra[0]));
            SpectrumJsonl.WriteAsStored(stream, new LabelledSpectrum(spectra[1] with { Calibration = new XrfEdge.Spectra.Calibration.EnergyCalibration(0, 5, 0) }));
            SpectrumJsonl.Write(stream, new LabelledSpectrum(spectra[2]));
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = IdentifyCommand.Run([path], TestModel, asJson: true, thresholdScale: 1.0, output, error);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(1, code); // some spectra failed
        using var bad = JsonDocument.Parse(lines[1]);
        Assert.Contains("calibration", bad.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("line 2", bad.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        foreach (var index in new[] { 0, 2 })
        {
            using var good = JsonDocument.Parse(lines[index]);
            Assert.Equal(spectra[index].Id, good.RootElement.GetProperty("id").GetString());
            Assert.Equal(JsonValueKind.Array, good.RootElement.GetProperty("elements").ValueKind);
        }
    }

    [Fact]
    public void Identify_CorruptLineInFile_ReportsItAndIdentifiesTheRest()
    {
        var input = Jsonl(3, corrupt: true);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = IdentifyCommand.Run([input], TestModel, asJson: true, thresholdScale: 1.0, output, error);

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 3 spectra + 1 corrupt line, in input order; exit code 1 = some spectra failed.
        Assert.Equal(4, lines.Length);
        Assert.Equal(1, code);
        using var bad = JsonDocument.Parse(lines[1]);
        Assert.True(bad.RootElement.TryGetProperty("error", out var problem));
        Assert.Contains("line 2", problem.GetString(), StringComparison.Ordinal);
        foreach (var index in new[] { 0, 2, 3 })
        {
            using var good = JsonDocument.Parse(lines[index]);
            Assert.Equal(JsonValueKind.Array, good.RootElement.GetProperty("elements").ValueKind);
            Assert.Equal(JsonValueKind.Array, good.RootElement.GetProperty("lines").ValueKind);
        }

        Assert.StartsWith("bench-0000", JsonDocument.Parse(lines[0]).RootElement.GetProperty("id").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_TableWithACorruptLine_ErrorGoesToStderrNamingFileAndLineAndStdoutHoldsOnlyResults()
    {
        // Until 2026-11-24 the table printed "id: ERROR …" among the results on stdout, so `identify … > results.txt` or a
        // pipe into a script got error lines mixed in with results, and the terminal showed nothing when stdout was redirected.
        var input = Jsonl(3, corrupt: true);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = IdentifyCommand.Run([input], TestModel, asJson: false, thresholdScale: 1.0, output, error);

        Assert.Equal(InferenceCli.ExitSomeFailed, code);
        Assert.DoesNotContain("ERROR", output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("line 2", output.ToString(), StringComparison.Ordinal);
        // One result row per readable spectrum (Jsonl: 3 benchmark spectra, ids bench-…), nothing for the corrupt line.
        Assert.Equal(3, output.ToString().Split('\n').Count(l => l.StartsWith("bench-", StringComparison.Ordinal)));
        Assert.Contains($"{input} line 2: ", error.ToString(), StringComparison.Ordinal);
        // The count: 1 of the 4 records (3 spectra + the corrupt line) could not be read.
        Assert.Contains("1 of 4 spectra could not be read", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_JsonWithACorruptLine_KeepsTheErrorRowOnStdoutAndAlsoNamesItOnStderr()
    {
        // --json keeps {"id","error"} in the stream: training/xrftrain/report.py and scripts/validation/score_real_spectra.py
        // count such a row as a failed file (an unreadable NIST file must fail the ship check, not vanish from it). Since
        // 2026-11-24 stderr also names it, so a person who redirected stdout sees it.
        var input = Jsonl(3, corrupt: true);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = IdentifyCommand.Run([input], TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(InferenceCli.ExitSomeFailed, code);
        Assert.Contains($"{input} line 2: ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("1 of 4 spectra could not be read", error.ToString(), StringComparison.Ordinal);
        Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("\"error\"", StringComparison.Ordinal));
    }

    /// <summary>The shipped model: the rules below are about what it was (not) trained to decide.</summary>
    private static string ShippedModel => RepositoryRoot.Combine("models", "xrf-line-encoder.int8.onnx");

    [Fact]
    public void Identify_AllZeroSpectrum_ReportsNoArgonAndSaysItIsNotAssessed()
    {
        // Before the rule the shipped model (1.6.0) reported "Ar 0.104" here: its Ar outputs were never trained.
        var csv = Path.Combine(_dir, "zero.csv");
        File.WriteAllLines(csv, Enumerable.Repeat("0", 2048));

        var (code, output) = Invoke("identify", "--input", csv, "--offset-kev", "0", "--gain-kev-per-channel", "0.015", "--model", ShippedModel, "--json");

        Assert.Equal(0, code);
        using var line = JsonDocument.Parse(output.Trim());
        Assert.DoesNotContain(line.RootElement.GetProperty("elements").EnumerateArray(), e => e.GetProperty("symbol").GetString() == "Ar");
        Assert.DoesNotContain(line.RootElement.GetProperty("lines").EnumerateArray(), l => l.GetProperty("name").GetString()!.StartsWith("Ar-", StringComparison.Ordinal));
        Assert.Equal(["Ar"], line.RootElement.GetProperty("not_assessed").EnumerateArray().Select(e => e.GetString()));
    }

    [NistSpectraFact]
    public void Identify_NistCopperWithRhodiumAnode_ReportsCopperNotRhodium()
    {
        // NIST Cu standard, Rh tube at 50 kV (file name); the .msa names no anode. Without --anode the shipped model
        // (1.6.0) reports Cu 1.000, Rh 0.995 (tube scatter) and Ar 0.254.
        var file = Path.Combine(NistSpectraFactAttribute.Folder, "Cu_50kv_50_ma_Rh_vac_D1.msa");

        var (code, output) = Invoke("identify", "--input", file, "--anode", "Rh", "--model", ShippedModel);

        Assert.Equal(0, code);
        var result = output.Split('\n')[1];
        Assert.StartsWith("Cu_50kv_50_ma_Rh_vac_D1: Cu ", result, StringComparison.Ordinal);
        Assert.DoesNotContain("Rh ", result, StringComparison.Ordinal);
        Assert.DoesNotContain("Rh-", output, StringComparison.Ordinal);
        Assert.Contains("not assessed: Ar (argon from air, never trained), Rh (tube anode)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_AnodeOption_AppliesOnlyWhereTheFileNamesNone()
    {
        // BenchmarkSpectra name an Rh anode; the counts-only CSV names none.
        var jsonl = Jsonl(1, corrupt: false);
        var csv = Path.Combine(_dir, "counts.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 300).Select(c => (c % 9).ToString(CultureInfo.InvariantCulture)));

        var (code, output) = Invoke("identify", "--input", jsonl, csv, "--anode", "Ag", "--offset-kev", "0.05", "--gain-kev-per-channel", "0.1", "--model", TestModel, "--json");

        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var fromFile = JsonDocument.Parse(lines[0]);
        using var fromOption = JsonDocument.Parse(lines[1]);
        Assert.Equal(["Ar", "Rh"], fromFile.RootElement.GetProperty("not_assessed").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["Ar", "Ag"], fromOption.RootElement.GetProperty("not_assessed").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Identify_FilesNamedWithoutInput_IdentifiedInOrderBeforeThoseOfInput()
    {
        var jsonl = Jsonl(2, corrupt: false);
        var csv = Path.Combine(_dir, "counts.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 300).Select(c => (c % 9).ToString(CultureInfo.InvariantCulture)));
        string[] options = ["--offset-kev", "0.05", "--gain-kev-per-channel", "0.1", "--model", TestModel, "--json"];

        var (viaOption, expected) = Invoke(["identify", "--input", csv, jsonl, .. options]);
        var (bare, named) = Invoke(["identify", csv, .. options, "--input", jsonl]);

        Assert.Equal(0, viaOption);
        Assert.Equal(0, bare);
        Assert.Equal(3, expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(expected, named);
    }

    [Theory]
    [InlineData("identify", "FILE", "--thresold-scale", "0.8")] // a misspelt option after a bare file
    [InlineData("identify", "--input", "FILE", "--thresold-scale", "0.8")] // or after --input's files
    public void Identify_MisspeltOption_IsAUsageErrorNotAFileName(params string[] args)
    {
        // Since bare file names were taken (2026-11-24), a misspelt option and its value became two more "files": the
        // spectra were identified at the default threshold scale, as if --threshold-scale 0.8 had been given, with two
        // "cannot open file" lines and exit 1 (some unreadable). Before, the parser refused it.
        var file = Jsonl(1, corrupt: false);
        var (code, output) = Invoke([.. args.Select(a => a == "FILE" ? file : a), "--model", TestModel, "--json"]);

        Assert.NotEqual(0, code);
        Assert.Contains("--thresold-scale", output, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot open file", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"elements\"", output, StringComparison.Ordinal); // nothing was identified
    }

    [Fact]
    public void Identify_NoFileAtAll_IsAUsageErrorNamingBothForms()
    {
        var (code, output) = Invoke("identify", "--model", TestModel);

        Assert.NotEqual(0, code);
        Assert.Contains("no spectrum file given: xrfedge identify FILE… or --input FILE…", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("identify")]
    [InlineData("eval")]
    public void AnodeOption_NotAnElement_IsAUsageErrorNamingIt(string verb)
    {
        var (code, output) = Invoke(verb, "--input", Jsonl(1, corrupt: false), "--anode", "Xx", "--model", TestModel);

        Assert.NotEqual(0, code);
        Assert.Contains("--anode 'Xx' is not an element of the line catalogue nor a known tube anode", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AnodeOption_WrongCase_SuggestsTheSymbol()
    {
        var (code, output) = Invoke("identify", "--input", Jsonl(1, corrupt: false), "--anode", "rh", "--model", TestModel);

        Assert.NotEqual(0, code);
        Assert.Contains("did you mean 'Rh'?", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_ModelMissing_ExitsTwoNamingTheFile()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var missing = Path.Combine(_dir, "absent.int8.onnx");

        var code = IdentifyCommand.Run([Jsonl(1, corrupt: false)], missing, asJson: false, thresholdScale: 1.0, output, error);

        Assert.Equal(2, code);
        Assert.Contains(missing, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Eval_Json_HasEverySectionOfTheDocumentedSchema()
    {
        var input = Jsonl(5, corrupt: false);
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = EvalCommand.Run(input, TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output.ToString());
        var root = json.RootElement;
        Assert.Equal(5, root.GetProperty("spectra").GetInt32());
        // 41 catalogue elements − Rh − Ar = 39 scored elements per spectrum.
        Assert.Equal(5 * 39, root.GetProperty("element").GetProperty("pairs").GetInt32());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("line").ValueKind);
        Assert.Equal(JsonValueKind.Object, root.GetProperty("paper").GetProperty("line").ValueKind);
        Assert.True(root.GetProperty("guess_ratio").TryGetProperty("top1_hit_rate", out _));
        Assert.True(root.GetProperty("guess_ratio").TryGetProperty("top1_reported_hit_rate", out _));
        Assert.Equal(41, root.GetProperty("per_element").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("confusions").ValueKind);
        Assert.True(root.GetProperty("spectra_per_second").GetDouble() > 0);
        Assert.Equal("int8", root.GetProperty("model").GetProperty("precision").GetString());
    }

    /// <summary>Writes <paramref name="count"/> benchmark spectra with the given truth (null = no label of that kind).</summary>
    private string LabelledJsonl(int count, IReadOnlyList<string>? elements, IReadOnlyList<string>? lines)
    {
        var path = Path.Combine(_dir, "labels.jsonl");
        using var writer = new StreamWriter(path);
        foreach (var spectrum in BenchmarkSpectra.Create(count, seed: 3))
        {
            SpectrumJsonl.Write(writer, new LabelledSpectrum(spectrum) { Elements = elements, Lines = lines });
        }

        return path;
    }

    [Fact]
    public void Eval_NoSpectrumCarriesLabels_ExitsTwo()
    {
        // Every metric is null then; the exit code was 0, so a pipeline took an unlabelled file for a passed evaluation.
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = EvalCommand.Run(LabelledJsonl(3, null, null), TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(2, code);
        Assert.Contains("nothing to score", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(3, JsonDocument.Parse(output.ToString()).RootElement.GetProperty("unlabelled").GetInt32());
    }

    [Fact]
    public void Eval_MissingFile_SaysNoSpectrumWasReadNotThatMetricsCoverTheOthers()
    {
        // Since the count line came (2026-11-24) a file that could not even be opened was reported as "1 of 1 spectra could
        // not be read and were skipped; the metrics cover the others", next to "no readable spectrum": there are no others.
        var missing = Path.Combine(_dir, "missing.jsonl");
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = EvalCommand.Run(missing, TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(2, code);
        Assert.Contains($"{missing}: cannot open file", error.ToString(), StringComparison.Ordinal);
        Assert.Contains($"no readable spectrum in {missing}", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("the metrics cover the others", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_SignalAsTheLastMeasurementEnds_TheWholeRunIsWrittenExit0()
    {
        // Ctrl-C as the last measurement ends (or while it runs: it runs to its end): until 2026-11-24 bench then said "interrupted after
        // 16 of 16 measurements" and exited 130, and with --json threw away the document of a whole run.
        // The test model has an int8 and an fp32 file in its card, so bench times 2 models.
        var planned = BenchCommand.PlannedMeasurements(models: 2);
        using var signal = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new FakeProgressWriter(dots: planned, signal);

        var code = BenchCommand.Run(TestModel, quick: true, asJson: false, output, error, signal.Token);

        Assert.True(signal.IsCancellationRequested, $"bench made {error.Dots} of the {planned} measurements expected");
        Assert.True(code == 0, $"exit {code}, stderr '{error}'");
        Assert.DoesNotContain("interrupted", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(planned, output.ToString().Split('\n').Count(line => line.StartsWith("int8", StringComparison.Ordinal) || line.StartsWith("fp32", StringComparison.Ordinal)));
    }

    /// <summary>bench's stderr: it writes one '.' per finished measurement; the signal comes with the '.' numbered <c>dots</c>.</summary>
    private sealed class FakeProgressWriter(int dots, CancellationTokenSource signal) : StringWriter(CultureInfo.InvariantCulture)
    {
        public int Dots { get; private set; }

        public override void Write(char value)
        {
            base.Write(value);
            if (value == '.' && ++Dots == dots)
            {
                signal.Cancel();
            }
        }
    }

    [Fact]
    public void Eval_LabelsOutsideTheCatalogue_CountedAndReported()
    {
        // "Fe-Ka1" is a Siegbahn name and "Hf" has no model output: both matched nothing, silently (line precision of a
        // 20-spectrum handheld-sdd set fell from 0.991 to 0.809 when its KL3 labels were renamed Ka1, and nothing said why).
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = EvalCommand.Run(LabelledJsonl(2, ["Fe", "Hf"], ["Fe-Ka1", "Fe-KL2"]), TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(0, code);
        var outside = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("labels_outside_catalog");
        Assert.Equal(2, outside.GetProperty("elements").GetInt32());
        Assert.Equal(2, outside.GetProperty("lines").GetInt32());
        Assert.Contains("Fe-Ka1", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Hf", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A .jsonl of <paramref name="lines"/> lines "[1]": each one an error ("expected a JSON object") without a parser
    /// exception, so that many are read quickly.
    /// </summary>
    private string AllBadLines(int lines)
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("[1]\n", lines)));
        return path;
    }

    // 200,000 errors of ~60 characters each held at once are ≥ 30 MB of managed memory (the string, the read result and
    // the list slot); bounded holding keeps at most a few thousand. 15 MB is between the two with room for test noise.
    private const int ManyBadLines = 200_000;
    private const long HeldBytesLimit = 15_000_000;

    [Fact]
    public void Identify_FileOfOnlyBadLines_HoldsBoundedMemory()
    {
        var input = AllBadLines(ManyBadLines);
        using var output = new FakeMeasuringWriter();
        using var error = new StringWriter();
        output.Baseline = GC.GetTotalMemory(forceFullCollection: true);

        var code = IdentifyCommand.Run([input], TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(1, code);
        Assert.Equal(ManyBadLines, output.Lines);
        Assert.True(output.HeldAtFirstWrite < HeldBytesLimit, $"{output.HeldAtFirstWrite} bytes held when the first result was written");
    }

    [Fact]
    public void Eval_FileOfOnlyBadLines_HoldsBoundedMemoryAndCountsThemAll()
    {
        var input = AllBadLines(ManyBadLines);
        using var output = new StringWriter();
        using var error = new FakeMeasuringWriter();
        error.Baseline = GC.GetTotalMemory(forceFullCollection: true);

        var code = EvalCommand.Run(input, TestModel, asJson: true, thresholdScale: 1.0, output, error);

        Assert.Equal(2, code);
        Assert.Equal(ManyBadLines, JsonDocument.Parse(output.ToString()).RootElement.GetProperty("errors").GetInt32());
        Assert.True(error.HeldAtFirstWrite < HeldBytesLimit, $"{error.HeldAtFirstWrite} bytes held when the first error was written");
    }

    /// <summary>Counts lines and, at the first, measures the managed memory held above <see cref="Baseline"/>; keeps no text.</summary>
    private sealed class FakeMeasuringWriter : TextWriter
    {
        public long Baseline { get; set; }

        public long HeldAtFirstWrite { get; private set; } = -1;

        public int Lines { get; private set; }

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
        }

        public override void WriteLine(string? value)
        {
            if (Lines++ == 0)
            {
                HeldAtFirstWrite = GC.GetTotalMemory(forceFullCollection: true) - Baseline;
            }
        }
    }

    [Fact]
    public void ModelInspect_TestModel_AcceptedWithNoWeightDequantizeLeft()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = ModelCommand.Inspect(TestModel, asJson: true, output, error);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output.ToString());
        var root = json.RootElement;
        Assert.True(root.GetProperty("accepted").GetBoolean());
        Assert.True(root.GetProperty("card").GetProperty("catalog_hash_matches").GetBoolean());
        Assert.All(root.GetProperty("files").EnumerateArray(), f => Assert.True(f.GetProperty("matches").GetBoolean()));
        Assert.Equal(0, root.GetProperty("optimized_graph").GetProperty("weight_dequantize_nodes").GetInt32());
        Assert.Equal(3, root.GetProperty("optimized_graph").GetProperty("op_types").GetProperty("QLinearMatMul").GetInt32());
        Assert.Equal("[N,300]", root.GetProperty("inputs")[0].GetProperty("shape").GetString());
    }

    [Theory]
    // "model file '…' does not exist" for a folder that plainly exists (LineEncoder's message; until 2026-11-24).
    [InlineData("model inspect")]
    [InlineData("bench")]
    [InlineData("identify")]
    public async Task ModelOption_Directory_ExitTwoSayingItIsADirectoryAndWhichModelToGive(string verb)
    {
        // A checkout's root, where the shipped model lies under models/.
        var models = Directory.CreateDirectory(Path.Combine(_dir, "models")).FullName;
        var model = Path.Combine(models, "xrf-line-encoder.int8.onnx");
        File.WriteAllText(model, "not read");
        File.WriteAllText(Path.Combine(models, "xrf-line-encoder.card.json"), "{}");
        using var output = new StringWriter();
        using var error = new StringWriter();

        // model inspect and bench write to the console from their actions, so they are called directly.
        var code = verb switch
        {
            "model inspect" => ModelCommand.Inspect(_dir, asJson: false, output, error),
            "bench" => BenchCommand.Run(_dir, quick: true, asJson: false, output, error),
            _ => await XrfEdgeCommandLine.InvokeAsync(["identify", "x.mca", "--model", _dir], output, error),
        };

        Assert.Equal(InferenceCli.ExitUnusable, code);
        Assert.Contains($"--model {_dir} is a directory, not a model file", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(model, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", error.ToString(), StringComparison.Ordinal);
    }
}

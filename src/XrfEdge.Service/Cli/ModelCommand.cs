using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using XrfEdge.Inference;
using XrfEdge.Inference.Model;
using XrfEdge.Inference.Native;
using XrfEdge.Spectra.Catalog;

namespace XrfEdge.Service.Cli;

/// <summary><c>xrfedge model inspect [--model FILE] [--json]</c>: card, contract check, file hashes, runtime, op types before and after ORT's optimisation.</summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var model = InferenceCli.ModelOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a report" };
        var inspect = new Command("inspect", "Show a model's card, contract check, file hashes and the op types of its optimised graph") { model, json };
        inspect.SetAction(parse => Inspect(parse.GetValue(model), parse.GetValue(json), Console.Out, Console.Error));
        return new Command("model", "Model files and cards") { inspect };
    }

    internal static int Inspect(string? modelGiven, bool asJson, TextWriter output, TextWriter error)
    {
        var modelPath = InferenceCli.ResolveModel(modelGiven, error);
        if (modelPath is null)
        {
            return InferenceCli.ExitUnusable;
        }

        modelPath = Path.GetFullPath(modelPath);
        var cardPath = LineEncoder.CardPathFor(modelPath);
        ModelCard? card = null;
        string? cardProblem = null;
        try
        {
            card = ModelCard.Load(cardPath);
        }
        catch (ModelContractException e)
        {
            cardProblem = e.Message;
        }

        using var loggers = InferenceCli.StderrLoggerFactory();
        string? refusal = null;
        LineEncoder? encoder = null;
        OnnxGraphSummary? optimised = null;
        try
        {
            encoder = LineEncoder.Open(modelPath, null, loggers.CreateLogger("XrfEdge.Inference"));
            optimised = encoder.InspectOptimizedGraph();
        }
        catch (Exception e) when (e is ModelContractException or OnnxRuntimeException)
        {
            refusal = e.Message;
        }

        using (encoder)
        {
            var fileHashes = card?.Files.ToDictionary(
                f => f.Key,
                f =>
                {
                    var path = Path.Combine(Path.GetDirectoryName(cardPath)!, f.Value.Path);
                    var actual = File.Exists(path) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : null;
                    return (f.Value, actual);
                });
            if (asJson)
            {
                InferenceCli.PrintJson(output, w => WriteJson(w, modelPath, cardPath, card, cardProblem, refusal, encoder, optimised, fileHashes));
            }
            else
            {
                WriteReport(output, modelPath, cardPath, card, cardProblem, refusal, encoder, optimised, fileHashes);
            }
        }

        return refusal is null ? 0 : InferenceCli.ExitSomeFailed;
    }

    private static void WriteJson(Utf8JsonWriter w, string modelPath, string cardPath, ModelCard? card, string? cardProblem, string? refusal,
        LineEncoder? encoder, OnnxGraphSummary? optimised, Dictionary<string, (ModelFileEntry Entry, string? Actual)>? files)
    {
        w.WriteStartObject();
        w.WriteString("model", modelPath);
        w.WriteString("card_path", cardPath);
        w.WriteBoolean("accepted", refusal is null);
        w.WriteString("refusal", refusal);
        w.WriteString("card_problem", cardProblem);
        if (card is not null)
        {
            w.WriteStartObject("card");
            w.WriteString("name", card.Name);
            w.WriteString("version", card.Version);
            w.WriteString("catalog_hash", card.CatalogHash);
            w.WriteBoolean("catalog_hash_matches", card.CatalogHash == LineCatalog.Default.Hash);
            w.WriteString("preprocessing", card.Preprocessing);
            w.WriteString("lines_output", card.LinesOutput);
            w.WriteString("elements_output", card.ElementsOutput);
            w.WriteNumber("line_threshold_min", card.LineThresholds.DefaultIfEmpty().Min());
            w.WriteNumber("line_threshold_max", card.LineThresholds.DefaultIfEmpty().Max());
            w.WritePropertyName("training");
            JsonDocument.Parse(card.TrainingJson).WriteTo(w);
            w.WritePropertyName("metrics");
            JsonDocument.Parse(card.MetricsJson).WriteTo(w);
            w.WriteEndObject();
        }

        if (files is not null)
        {
            w.WriteStartArray("files");
            foreach (var (precision, (entry, actual)) in files)
            {
                w.WriteStartObject();
                w.WriteString("precision", precision);
                w.WriteString("path", entry.Path);
                w.WriteString("card_sha256", entry.Sha256);
                w.WriteString("actual_sha256", actual);
                w.WriteBoolean("matches", actual == entry.Sha256);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        if (encoder is not null)
        {
            w.WriteStartObject("runtime");
            w.WriteString("version", OnnxRuntime.Version);
            w.WriteNumber("api_version", OnnxRuntime.ApiVersion);
            w.WriteString("library", OnnxRuntime.Initialize().LibraryPath);
            w.WriteEndObject();
            w.WriteStartArray("inputs");
            WriteTensor(w, encoder.Input);
            w.WriteEndArray();
            w.WriteStartArray("outputs");
            foreach (var o in encoder.Outputs)
            {
                WriteTensor(w, o);
            }

            w.WriteEndArray();
            WriteGraph(w, "graph", encoder.Graph);
        }

        if (optimised is not null)
        {
            WriteGraph(w, "optimized_graph", optimised);
        }

        w.WriteEndObject();
    }

    private static void WriteTensor(Utf8JsonWriter w, TensorMetadata t)
    {
        w.WriteStartObject();
        w.WriteString("name", t.Name);
        w.WriteString("type", t.ElementType == TensorElementType.Float32Ieee ? "float32" : t.ElementType.ToString());
        w.WriteString("shape", t.ShapeText);
        w.WriteEndObject();
    }

    private static void WriteGraph(Utf8JsonWriter w, string name, OnnxGraphSummary g)
    {
        w.WriteStartObject(name);
        w.WriteNumber("ir_version", g.IrVersion);
        w.WriteNumber("initializers", g.InitializerCount);
        w.WriteNumber("weight_dequantize_nodes", g.WeightDequantizeNodes);
        w.WriteStartObject("op_types");
        foreach (var (op, count) in g.OpTypes)
        {
            w.WriteNumber(op, count);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteReport(TextWriter o, string modelPath, string cardPath, ModelCard? card, string? cardProblem, string? refusal,
        LineEncoder? encoder, OnnxGraphSummary? optimised, Dictionary<string, (ModelFileEntry Entry, string? Actual)>? files)
    {
        o.WriteLine($"model      {modelPath}");
        o.WriteLine($"card       {cardPath}{(cardProblem is null ? string.Empty : "  — " + cardProblem)}");
        if (card is not null)
        {
            o.WriteLine($"name       {card.Name} {card.Version}");
            o.WriteLine($"catalogue  {card.CatalogHash} ({(card.CatalogHash == LineCatalog.Default.Hash ? "matches this build" : "DIFFERS from this build's " + LineCatalog.Default.Hash)})");
            o.WriteLine($"preprocess {card.Preprocessing}");
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"thresholds lines {card.LineThresholds.Count} (min {card.LineThresholds.DefaultIfEmpty().Min():F3}, max {card.LineThresholds.DefaultIfEmpty().Max():F3}), elements {(card.ElementThresholds?.Count.ToString(CultureInfo.InvariantCulture) ?? "none")}"));
        }

        foreach (var (precision, (entry, actual)) in files ?? [])
        {
            o.WriteLine($"file       {precision,-5} {entry.Path}  sha256 {entry.Sha256}  {(actual == entry.Sha256 ? "OK" : actual is null ? "MISSING" : "MISMATCH (actual " + actual + ")")}");
        }

        o.WriteLine(refusal is null ? "contract   accepted" : $"contract   REFUSED: {refusal}");
        if (encoder is not null)
        {
            o.WriteLine($"runtime    ONNX Runtime {OnnxRuntime.Version}, API {OnnxRuntime.ApiVersion}, {OnnxRuntime.Initialize().LibraryPath}");
            o.WriteLine($"input      {encoder.Input.Name} float32 {encoder.Input.ShapeText}");
            foreach (var output in encoder.Outputs)
            {
                o.WriteLine($"output     {output.Name} {(output.ElementType == TensorElementType.Float32Ieee ? "float32" : output.ElementType.ToString())} {output.ShapeText}");
            }

            o.WriteLine($"ops        as written: {Ops(encoder.Graph)}");
        }

        if (optimised is not null)
        {
            o.WriteLine($"ops        optimised:  {Ops(optimised)}");
            o.WriteLine(optimised.WeightDequantizeNodes == 0
                ? "int8 check no DequantizeLinear on a weight survives optimisation"
                : $"int8 check WARNING: {optimised.WeightDequantizeNodes} weight DequantizeLinear node(s) left unfused — each dequantises a weight on every run");
        }
    }

    private static string Ops(OnnxGraphSummary g) => string.Join(", ", g.OpTypes.Select(p => $"{p.Key}×{p.Value}"));
}

using System.Text.Json;

namespace XrfEdge.Inference.Model;

/// <summary>
/// A model card (<c>*.card.json</c>, schema "xrfedge-model-card/1", snake_case JSON; docs/model-card.schema.json):
/// the contract between training and the instrument — catalogue hash, input grid, preprocessing, output names,
/// files with SHA-256, per-line thresholds, plus free-form training provenance and metrics.
/// </summary>
public sealed record ModelCard
{
    /// <summary>The only schema this reader accepts.</summary>
    public const string SchemaId = "xrfedge-model-card/1";

    /// <summary>Model name, e.g. "xrf-line-encoder".</summary>
    public required string Name { get; init; }

    /// <summary>Model version, e.g. "1.0.0".</summary>
    public required string Version { get; init; }

    /// <summary>SHA-256 of the emission-line catalogue the model was trained against (LineCatalog.Hash).</summary>
    public required string CatalogHash { get; init; }

    /// <summary>Preprocessing id (ModelInput.PreprocessingId), e.g. "rebin-counts-v1".</summary>
    public required string Preprocessing { get; init; }

    /// <summary>Input grid.</summary>
    public required ModelInputSpec Input { get; init; }

    /// <summary>Name of the line-probability output, "line_probabilities".</summary>
    public required string LinesOutput { get; init; }

    /// <summary>Name of the optional element-probability output, or null.</summary>
    public string? ElementsOutput { get; init; }

    /// <summary>Files by precision ("int8", "fp32").</summary>
    public required IReadOnlyDictionary<string, ModelFileEntry> Files { get; init; }

    /// <summary>Per-line decision thresholds (probability 0–1), catalogue order.</summary>
    public required IReadOnlyList<float> LineThresholds { get; init; }

    /// <summary>Per-element thresholds for the element head (LineCatalog.Elements order), or null.</summary>
    public IReadOnlyList<float>? ElementThresholds { get; init; }

    /// <summary>Total counts (model grid) the model was trained on, from the card's "count_range", or null for older cards.</summary>
    public CountRange? CountRange { get; init; }

    /// <summary>
    /// MCA full scales the model was trained on, from the card's optional "trained_full_scale_kev", or null when the card
    /// does not state them (then energy coverage is reported without a below-trained verdict).
    /// </summary>
    public TrainedFullScale? TrainedFullScale { get; init; }

    /// <summary>
    /// Discriminator (lower-level threshold) energies of the training spectra, from the card's optional
    /// "trained_lower_threshold_kev", or null when the card does not state them (then a spectrum's start is reported
    /// without an above-trained verdict).
    /// </summary>
    public TrainedLowerThreshold? TrainedLowerThreshold { get; init; }

    /// <summary>The card's "novelty" object as raw JSON, or null.</summary>
    public string? NoveltyJson { get; init; }

    /// <summary>The card's "training" object as raw JSON.</summary>
    public string TrainingJson { get; init; } = "{}";

    /// <summary>The card's "metrics" object as raw JSON.</summary>
    public string MetricsJson { get; init; } = "{}";

    /// <summary>The precision ("int8"/"fp32") whose file name is <paramref name="fileName"/>, or null.</summary>
    public string? PrecisionOf(string fileName)
    {
        foreach (var (precision, entry) in Files)
        {
            if (string.Equals(Path.GetFileName(entry.Path), fileName, StringComparison.Ordinal))
            {
                return precision;
            }
        }

        return null;
    }

    /// <summary>Reads and parses a card file.</summary>
    /// <exception cref="ModelContractException">The file is missing, not JSON, or lacks a required field.</exception>
    public static ModelCard Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelContractException($"model card '{path}' cannot be read: {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>Parses card JSON; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="ModelContractException">Not JSON, wrong schema, or a required field missing or of the wrong type.</exception>
    public static ModelCard Parse(string json, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Problem(source, "the card is not a JSON object");
            }

            var schema = String(root, "schema", source);
            if (schema != SchemaId)
            {
                throw Problem(source, $"schema is '{schema}', expected '{SchemaId}'");
            }

            var input = Object(root, "input", source);
            var outputs = Object(root, "outputs", source);
            var files = Object(root, "files", source);
            var thresholds = Object(root, "thresholds", source);
            var fileMap = new Dictionary<string, ModelFileEntry>(StringComparer.Ordinal);
            foreach (var property in files.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Object)
                {
                    throw Problem(source, $"files.{property.Name} is not an object");
                }

                fileMap[property.Name] = new ModelFileEntry(
                    String(property.Value, "path", source, $"files.{property.Name}."),
                    String(property.Value, "sha256", source, $"files.{property.Name}.").ToLowerInvariant());
            }

            if (fileMap.Count == 0)
            {
                throw Problem(source, "files lists no model file");
            }

            return new ModelCard
            {
                Name = String(root, "name", source),
                Version = String(root, "version", source),
                CatalogHash = String(root, "catalog_hash", source),
                Preprocessing = String(root, "preprocessing", source),
                Input = new ModelInputSpec(
                    String(input, "name", source, "input."),
                    Integer(input, "bins", source, "input."),
                    Number(input, "lower_kev", source, "input."),
                    Number(input, "bin_width_kev", source, "input.")),
                LinesOutput = String(outputs, "lines", source, "outputs."),
                ElementsOutput = OptionalString(outputs, "elements", source, "outputs."),
                Files = fileMap,
                LineThresholds = Floats(thresholds, "lines", source) ?? throw Problem(source, "thresholds.lines is missing or null"),
                ElementThresholds = Floats(thresholds, "elements", source),
                CountRange = ReadCountRange(root, source),
                TrainedFullScale = ReadTrainedFullScale(root, source),
                TrainedLowerThreshold = ReadTrainedLowerThreshold(root, source),
                NoveltyJson = root.TryGetProperty("novelty", out var novelty) && novelty.ValueKind == JsonValueKind.Object ? novelty.GetRawText() : null,
                TrainingJson = root.TryGetProperty("training", out var training) ? training.GetRawText() : "{}",
                MetricsJson = root.TryGetProperty("metrics", out var metrics) ? metrics.GetRawText() : "{}",
            };
        }
        catch (JsonException e)
        {
            throw Problem(source, $"not valid JSON ({e.Message})");
        }
    }

    private static ModelContractException Problem(string source, string what) => new($"model card '{source}': {what}");

    private static CountRange? ReadCountRange(JsonElement root, string source)
    {
        if (!root.TryGetProperty("count_range", out var range) || range.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (range.ValueKind != JsonValueKind.Object)
        {
            throw Problem(source, "'count_range' is not an object");
        }

        var low = Number(range, "low_total", source, "count_range.");
        var high = Number(range, "high_total", source, "count_range.");
        if (!(low > 0) || !(high > low) || double.IsInfinity(high))
        {
            throw Problem(source, $"count_range must have 0 < low_total < high_total (finite); it has {low} and {high}");
        }

        return new CountRange(low, high);
    }

    private static TrainedFullScale? ReadTrainedFullScale(JsonElement root, string source)
    {
        if (OptionalRange(root, "trained_full_scale_kev", source) is not { } range)
        {
            return null;
        }

        var (min, max) = range;

        if (!(min > 0) || !(max >= min) || double.IsInfinity(max))
        {
            throw Problem(source, $"trained_full_scale_kev must have 0 < min <= max (finite); it has {min} and {max}");
        }

        return new TrainedFullScale(min, max);
    }

    private static TrainedLowerThreshold? ReadTrainedLowerThreshold(JsonElement root, string source)
    {
        if (OptionalRange(root, "trained_lower_threshold_kev", source) is not { } range)
        {
            return null;
        }

        var (min, max) = range;

        if (!(min >= 0) || !(max >= min) || !(max < TrainedLowerThreshold.LimitKeV))
        {
            throw Problem(source, $"trained_lower_threshold_kev must have 0 <= min <= max < {TrainedLowerThreshold.LimitKeV} keV; it has {min} and {max}");
        }

        return new TrainedLowerThreshold(min, max);
    }

    /// <summary>The optional <c>{"min": …, "max": …}</c> object <paramref name="name"/>, or null when absent or null.</summary>
    private static (double Min, double Max)? OptionalRange(JsonElement root, string name, string source)
    {
        if (!root.TryGetProperty(name, out var range) || range.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (range.ValueKind != JsonValueKind.Object)
        {
            throw Problem(source, $"'{name}' is not an object");
        }

        return (Number(range, "min", source, name + "."), Number(range, "max", source, name + "."));
    }

    private static JsonElement Object(JsonElement parent, string name, string source) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw Problem(source, $"'{name}' is missing or not an object");

    private static string String(JsonElement parent, string name, string source, string prefix = "") =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Problem(source, $"'{prefix}{name}' is missing or not a non-empty string");

    private static string? OptionalString(JsonElement parent, string name, string source, string prefix)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Problem(source, $"'{prefix}{name}' must be a non-empty string or null");
    }

    private static double Number(JsonElement parent, string name, string source, string prefix) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw Problem(source, $"'{prefix}{name}' is missing or not a number");

    // Not a cast of Number: (int)300.5 is 300, which passed the grid check, and a value beyond int became int.MaxValue.
    // 300.0 is accepted: the schema's "const": 300 compares numbers by value.
    private static int Integer(JsonElement parent, string name, string source, string prefix) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.GetDouble() is var number && double.IsInteger(number) && number is >= int.MinValue and <= int.MaxValue
            ? (int)number
            : throw Problem(source, $"'{prefix}{name}' is missing or not an integer");

    private static float[]? Floats(JsonElement parent, string name, string source)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Problem(source, $"'thresholds.{name}' is not an array");
        }

        var result = new float[value.GetArrayLength()];
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || item.GetDouble() is < 0 or > 1 or double.NaN)
            {
                throw Problem(source, $"'thresholds.{name}[{i}]' is not a probability in [0, 1]");
            }

            result[i++] = (float)item.GetDouble();
        }

        return result;
    }
}

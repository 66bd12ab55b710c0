using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using XrfEdge.Inference;
using XrfEdge.Inference.Model;
using XrfEdge.Inference.Native;
using XrfEdge.Spectra;

namespace XrfEdge.Service.Cli;

/// <summary>What the inference verbs (identify, eval, model inspect, bench) share: the --model option and opening the encoder.</summary>
internal static class InferenceCli
{
    /// <summary>Exit code when a spectrum or a file could not be processed (the rest was).</summary>
    public const int ExitSomeFailed = 1;

    /// <summary>Exit code for a refused model, a missing runtime or bad arguments.</summary>
    public const int ExitUnusable = 2;

    public static Option<string?> ModelOption() => new("--model")
    {
        Description = $"ONNX model file; its card is <stem>.card.json next to it (default: models/{ModelLocator.DefaultModelFileName})",
    };

    public static Option<double> ThresholdScaleOption() => new("--threshold-scale")
    {
        Description = "Multiply every per-line (and per-element) threshold of the card by this factor (>1 = stricter)",
        DefaultValueFactory = _ => 1.0,
    };

    public static Option<CountRangePolicy> CountRangeOption() => new("--above-trained-counts")
    {
        Description = "Spectra with more counts than the model's trained range: ScaleDown (identify the expected spectrum at the range's top) or Report (as measured, flagged)",
        DefaultValueFactory = _ => CountRangePolicy.ScaleDown,
    };

    /// <summary>
    /// <c>--anode SYMBOL</c>: the tube anode of spectra whose file names none (a file's own anode wins); the decoder does
    /// not assess that element (docs/inference.md, "Decoder rules"). A symbol that is neither a catalogue element nor a
    /// known tube anode is a usage error.
    /// </summary>
    public static Option<string?> AnodeOption()
    {
        var option = new Option<string?>("--anode")
        {
            Description = "Tube anode element (e.g. Rh) of spectra whose file names none: that element is not assessed, its lines being tube scatter; a file's own anode wins",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } symbol && TubeAnode.Check(symbol) is { } problem)
            {
                result.AddError("--anode " + problem);
            }
        });
        return option;
    }

    /// <summary>A logger factory writing warnings and errors (ORT's included) to stderr, so stdout stays machine-readable.</summary>
    public static ILoggerFactory StderrLoggerFactory() => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Warning)
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    /// <summary>The model path to use, or null after writing why there is none.</summary>
    public static string? ResolveModel(string? given, TextWriter error)
    {
        if (given is not null)
        {
            if (!Directory.Exists(given))
            {
                return given;
            }

            // LineEncoder only sees "no such file" and said the model "does not exist" for a folder that plainly does.
            var inside = ModelsIn(given);
            error.WriteLine(inside.Count > 0
                ? $"xrfedge: --model {given} is a directory, not a model file; give the .onnx file (its card *.card.json beside it), e.g. {string.Join(" or ", inside)}"
                : $"xrfedge: --model {given} is a directory, not a model file, and holds no .onnx model; give the .onnx file (its card *.card.json beside it), e.g. models/{ModelLocator.DefaultModelFileName}");
            return null;
        }

        var found = ModelLocator.FindDefaultModel();
        if (found is null)
        {
            error.WriteLine($"xrfedge: {ModelLocator.MissingModelMessage}");
        }

        return found;
    }
    /// <summary>
    /// The .onnx files with a card that a folder given as --model holds, directly or in its models/ (a checkout's root):
    /// the default model first, then by name.
    /// </summary>
    private static List<string> ModelsIn(string directory)
    {
        try
        {
            return new[] { directory, Path.Combine(directory, "models") }
                .Where(Directory.Exists)
                .SelectMany(folder => Directory.EnumerateFiles(folder, "*.onnx"))
                .Where(model => File.Exists(LineEncoder.CardPathFor(Path.GetFullPath(model))))
                .OrderBy(model => Path.GetFileName(model) == ModelLocator.DefaultModelFileName ? 0 : 1)
                .ThenBy(model => model, StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>
    /// The common start of the verbs that identify spectra: checks the threshold scale, resolves the model path and
    /// opens the encoder, writing the reason to <paramref name="error"/> when any step fails.
    /// </summary>
    /// <returns>The stderr logger factory and the open encoder (the caller disposes both), or null.</returns>
    public static (ILoggerFactory Loggers, LineEncoder Encoder)? TryOpenForVerb(string verb, string? modelGiven, double thresholdScale, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!(thresholdScale > 0))
        {
            error.WriteLine($"xrfedge {verb}: --threshold-scale must be a positive number");
            return null;
        }

        var modelPath = ResolveModel(modelGiven, error);
        if (modelPath is null)
        {
            return null;
        }

        var loggers = StderrLoggerFactory();
        var encoder = TryOpen(modelPath, loggers.CreateLogger("XrfEdge.Inference"), error);
        if (encoder is null)
        {
            loggers.Dispose();
            return null;
        }

        return (loggers, encoder);
    }


    /// <summary>Opens the encoder, or writes the refusal and returns null.</summary>
    public static LineEncoder? TryOpen(string modelPath, ILogger logger, TextWriter error, OnnxSessionOptions? session = null)
    {
        try
        {
            return LineEncoder.Open(modelPath, new LineEncoderOptions { Session = session ?? new OnnxSessionOptions() }, logger);
        }
        catch (Exception e) when (e is ModelContractException or OnnxRuntimeException)
        {
            error.WriteLine($"xrfedge: {e.Message}");
            return null;
        }
    }

    public static void WriteModel(Utf8JsonWriter writer, LineEncoder encoder)
    {
        writer.WriteStartObject("model");
        writer.WriteString("name", encoder.Identity.Name);
        writer.WriteString("version", encoder.Identity.Version);
        writer.WriteString("precision", encoder.Identity.Precision);
        writer.WriteString("sha256", encoder.Identity.Sha256);
        writer.WriteString("path", encoder.ModelPath);
        writer.WriteEndObject();
    }

    /// <summary>Runs <paramref name="write"/> on a JSON writer and prints the result as one line.</summary>
    public static void PrintJson(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}

namespace XrfEdge.Inference;

/// <summary>Where the shipped model lives: <c>models/xrf-line-encoder.int8.onnx</c> under the repository root or the application folder.</summary>
public static class ModelLocator
{
    /// <summary>File name of the default (int8) encoder.</summary>
    public const string DefaultModelFileName = "xrf-line-encoder.int8.onnx";

    /// <summary>
    /// The default model path: models/<see cref="DefaultModelFileName"/> in the first folder, walking up from the current
    /// directory and then from the application folder, that has it; null when none does.
    /// </summary>
    public static string? FindDefaultModel()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models", DefaultModelFileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>What to tell a user when there is no default model.</summary>
    public static string MissingModelMessage =>
        $"no model given and models/{DefaultModelFileName} was not found (looked upward from the current directory and the application folder); " +
        "build it with `make model` (training pipeline, see training/README.md) or pass --model FILE";
}

using XrfEdge.Inference;

namespace XrfEdge.Bench;

/// <summary>The model the inference benchmarks time: the shipped models/ int8 + fp32 pair when built, else the repository's fixed-seed test encoder.</summary>
internal static class BenchModels
{
    public static string Path(string precision)
    {
        var shipped = ModelLocator.FindDefaultModel();
        if (shipped is not null)
        {
            var dir = System.IO.Path.GetDirectoryName(shipped)!;
            var candidate = System.IO.Path.Combine(dir, $"xrf-line-encoder.{precision}.onnx");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var test = System.IO.Path.Combine(dir.FullName, "tests", "XrfEdge.Inference.Tests", "Models", $"test-encoder.{precision}.onnx");
            if (File.Exists(test))
            {
                return test;
            }
        }

        throw new FileNotFoundException($"no {precision} model: neither models/xrf-line-encoder.{precision}.onnx nor the test encoder was found");
    }
}

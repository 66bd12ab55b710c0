namespace XrfEdge.Service.Tests;

/// <summary>The repository root (the folder holding XrfEdge.sln), found by walking up from the test assembly.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>The fixed-seed test encoder of the infer branch (random weights: only for plumbing, not for accuracy).</summary>
    public static string TestModel => Combine("tests", "XrfEdge.Inference.Tests", "Models", "test-encoder.int8.onnx");

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "XrfEdge.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("XrfEdge.sln not found above " + AppContext.BaseDirectory);
    }
}

namespace XrfEdge.Inference.Tests;

/// <summary>Finds the repository root (the folder holding XrfEdge.sln) by walking up from the test binaries.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string?> Root = new(Find);

    /// <summary>The root folder, or null when the tests run outside a checkout.</summary>
    public static string? Path => Root.Value;

    /// <summary>The root folder; throws when absent (use only after a skip check).</summary>
    public static string Require() => Root.Value ?? throw new InvalidOperationException("XrfEdge.sln not found above " + AppContext.BaseDirectory);

    private static string? Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "XrfEdge.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}

namespace XrfEdge.Devices.Tests;

/// <summary>Paths of the test files: fixtures and the malformed corpus (copied next to the test binaries) and the shared real spectra.</summary>
internal static class TestFiles
{
    private static readonly Lazy<string?> Root = new(FindRoot);

    /// <summary>A file of Fixtures/ (valid spectra written by Fixtures/make_fixtures.py).</summary>
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A file of Malformed/ (the malformed corpus, same script).</summary>
    public static string Malformed(string name) => Path.Combine(AppContext.BaseDirectory, "Malformed", name);

    /// <summary>The malformed corpus folder.</summary>
    public static string MalformedFolder => Path.Combine(AppContext.BaseDirectory, "Malformed");

    /// <summary>../shared/spectra/nist-rh50kv-vacuum relative to the repository root, or null when absent.</summary>
    public static string? NistFolder
    {
        get
        {
            if (Root.Value is null)
            {
                return null;
            }

            var folder = Path.GetFullPath(Path.Combine(Root.Value, "..", "shared", "spectra", "nist-rh50kv-vacuum"));
            return Directory.Exists(folder) ? folder : null;
        }
    }

    /// <summary>validation/spectra/pixl-bb-rh28kv-glasses/ of the repository (real spectra kept in the repository; see its README.md).</summary>
    public static string PixlGlassesFolder => Path.Combine(
        Root.Value ?? throw new InvalidOperationException("XrfEdge.sln not found above " + AppContext.BaseDirectory),
        "validation",
        "spectra",
        "pixl-bb-rh28kv-glasses");

    /// <summary>validation/spectra/xgt7200-rh50kv-geo-crms/ of the repository (real spectra kept in the repository; see its README.md).</summary>
    public static string XgtCrmFolder => Path.Combine(
        Root.Value ?? throw new InvalidOperationException("XrfEdge.sln not found above " + AppContext.BaseDirectory),
        "validation",
        "spectra",
        "xgt7200-rh50kv-geo-crms");

    private static string? FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "XrfEdge.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}

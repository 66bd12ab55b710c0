namespace XrfEdge.Service.Tests.Cli;

/// <summary>A fact skipped, with the reason, when ../shared/spectra/nist-rh50kv-vacuum is not next to the checkout.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NistSpectraFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the real spectra are absent.</summary>
    public NistSpectraFactAttribute()
    {
        if (!Directory.Exists(Folder))
        {
            Skip = "../shared/spectra/nist-rh50kv-vacuum is absent (real spectra are not copied into the repository)";
        }
    }

    /// <summary>The NIST Bruker spectra (Rh tube, 50 kV, vacuum) beside the checkout.</summary>
    public static string Folder => Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "spectra", "nist-rh50kv-vacuum"));
}

namespace XrfEdge.Devices.Tests;

/// <summary>A theory skipped, with the reason, when ../shared/spectra/nist-rh50kv-vacuum is not next to the checkout.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SharedSpectraTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the real spectra are absent.</summary>
    public SharedSpectraTheoryAttribute()
    {
        if (TestFiles.NistFolder is null)
        {
            Skip = "../shared/spectra/nist-rh50kv-vacuum is absent (real spectra are not copied into the repository)";
        }
    }
}

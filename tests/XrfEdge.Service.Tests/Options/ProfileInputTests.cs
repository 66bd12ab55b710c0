using XrfEdge.Service.Cli;
using XrfEdge.Service.Options;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Options;

/// <summary>
/// What an integrator meets when a profile, an <c>XRFEDGE_</c> variable or a <c>--set</c> is wrong: exit 78 (which the
/// unit does not restart), one line per problem that says where the value came from, and no stack trace.
/// </summary>
public sealed class ProfileInputTests : IDisposable
{
    private readonly TestProfiles _profiles = new();

    private static readonly Dictionary<string, string?> Environment = new() { ["STATE_DIRECTORY"] = "/var/lib/xrfedge" };

    public void Dispose() => _profiles.Dispose();

    private static string PiProfile => RepositoryRoot.Combine("firmware-config", "pi-dp5-uart.json");

    [Fact]
    public void OnnxRuntimePathVariable_AsDocumentedForJetPack_IsNotReadAsAProfileKey()
    {
        // docs/inference.md tells a JetPack site to set XRFEDGE_ONNXRUNTIME_PATH; read as a key it was
        // "ONNXRUNTIME_PATH: unknown section", exit 78, and the unit never started.
        var environment = new Dictionary<string, string?>(Environment) { [XrfEdge.Inference.Native.OnnxRuntime.LibraryPathVariable] = "/usr/lib/aarch64-linux-gnu/libonnxruntime.so.1.16.0" };

        var settings = ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], environment);

        Assert.Null(settings.Model.OnnxRuntimeLibraryPath); // the variable is the library's own fallback, not a key
    }

    [Fact]
    public void InstallPrebuiltVariable_LeftInTheShell_IsNotReadAsAProfileKey()
    {
        // scripts/install.sh's XRFEDGE_PREBUILT=DIR, exported in the integrator's shell, then `./xrfedge run`.
        var environment = new Dictionary<string, string?>(Environment) { ["XRFEDGE_PREBUILT"] = "/tmp/publish" };

        ProfileLoader.Load(PiProfile, ["Model:Path=" + RepositoryRoot.TestModel], environment);
    }
}

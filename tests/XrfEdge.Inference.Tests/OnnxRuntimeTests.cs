using XrfEdge.Inference.Native;

namespace XrfEdge.Inference.Tests;

public sealed class OnnxRuntimeTests
{
    [Fact]
    public void Initialize_BundledLibrary_NegotiatesNewestKnownApi()
    {
        var runtime = OnnxRuntime.Initialize();

        // The build fetches onnxruntime-node 1.30.0 (scripts/fetch-onnxruntime.sh), whose API version is 30 (reference §2.3).
        Assert.Equal("1.30.0", OnnxRuntime.Version);
        Assert.Equal(30, OnnxRuntime.ApiVersion);
        Assert.True(OnnxRuntime.SupportsDeterministicCompute);
        Assert.EndsWith(Path.Combine("runtimes", "linux-x64", "native", "libonnxruntime.so.1"), runtime.LibraryPath, StringComparison.Ordinal);
        Assert.Contains("git-commit-id", OnnxRuntime.BuildInfo, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.30.0", 30)]
    [InlineData("1.16.3", 16)]
    [InlineData("2.1.0-dev", 1)]
    public void ParseMinor_VersionString_ReturnsMinor(string version, int expected) =>
        Assert.Equal(expected, OnnxRuntimeApi.ParseMinor(version));

    [Fact]
    public void ParseMinor_Garbage_ReturnsNull() => Assert.Null(OnnxRuntimeApi.ParseMinor("unknown"));

    [Fact]
    public void LocateLibrary_ConfiguredPathMissing_ThrowsNamingThePath()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-dir", "libonnxruntime.so.1");

        var error = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntime.LocateLibrary(missing));

        Assert.Equal(OnnxRuntimeErrorCode.NoSuchFile, error.ErrorCode);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateSession_RandomBytes_ThrowsWithOrtsOwnMessage()
    {
        var runtime = OnnxRuntime.Initialize();
        var garbage = new byte[4096];
        new Random(4).NextBytes(garbage);

        var error = Assert.Throws<OnnxRuntimeException>(() => runtime.CreateSession(garbage, new OnnxSessionOptions()));

        // ORT 1.30's text for unparseable bytes (reference §3.5).
        Assert.Equal(OnnxRuntimeErrorCode.InvalidProtobuf, error.ErrorCode);
        Assert.Contains("protobuf parsing failed", error.RuntimeMessage, StringComparison.Ordinal);
    }

    // Shapes are checked before ORT sees them: every run ORT rejects leaks about 1.5 KB inside ORT (review of the
    // binding), so a wrong width must never reach it. ORT's own text for this case is in reference §3.5.
    [Fact]
    public void Run_WrongInputWidth_ThrowsArgumentBeforeOrt()
    {
        var runtime = OnnxRuntime.Initialize();
        using var session = runtime.CreateSession(File.ReadAllBytes(TestModels.Fp32), new OnnxSessionOptions());
        using var input = session.CreateTensor(2, 299);
        using var output = session.CreateTensor(2, 556);

        var error = Assert.Throws<ArgumentException>(() => session.Run([input], [0], [output]));

        Assert.Contains("'spectrum' has shape [2,299]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[N,300]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_OutputBatchDiffersFromInputBatch_ThrowsArgumentBeforeOrt()
    {
        var runtime = OnnxRuntime.Initialize();
        using var session = runtime.CreateSession(File.ReadAllBytes(TestModels.Int8), new OnnxSessionOptions());
        using var input = session.CreateTensor(2, 300);
        using var output = session.CreateTensor(3, 556);

        var error = Assert.Throws<ArgumentException>(() => session.Run([input], [0], [output]));

        Assert.Contains("'line_probabilities' has shape [3,556]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_DisposedOutputTensor_ThrowsObjectDisposed()
    {
        var runtime = OnnxRuntime.Initialize();
        using var session = runtime.CreateSession(File.ReadAllBytes(TestModels.Int8), new OnnxSessionOptions());
        using var input = session.CreateTensor(1, 300);
        var output = session.CreateTensor(1, 556);
        output.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run([input], [0], [output]));
    }

    [Fact]
    public void Run_AfterSessionDispose_ThrowsObjectDisposed()
    {
        var runtime = OnnxRuntime.Initialize();
        var session = runtime.CreateSession(File.ReadAllBytes(TestModels.Int8), new OnnxSessionOptions());
        using var input = session.CreateTensor(1, 300);
        using var output = session.CreateTensor(1, 556);
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run([input], [0], [output]));
    }

    [Theory]
    [InlineData("2.0.0", "major version 2")]
    [InlineData("1.15.1", "too old")]
    public void CheckVersion_UnsupportedRuntime_ThrowsSayingWhy(string version, string reason)
    {
        var error = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntimeApi.CheckVersion(version, "/opt/ort/libonnxruntime.so"));

        Assert.Equal(OnnxRuntimeErrorCode.NotImplemented, error.ErrorCode);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("/opt/ort/libonnxruntime.so", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.16.3", 16)]
    [InlineData("1.31.0", 31)]
    public void CheckVersion_SupportedOrNewerMinor_ReturnsMinor(string version, int expected) =>
        Assert.Equal(expected, OnnxRuntimeApi.CheckVersion(version, "libonnxruntime.so.1"));

    [Fact]
    public void Session_TestModel_ReportsContractShapes()
    {
        var runtime = OnnxRuntime.Initialize();
        using var session = runtime.CreateSession(File.ReadAllBytes(TestModels.Int8), new OnnxSessionOptions());

        var input = Assert.Single(session.Inputs);
        Assert.Equal("spectrum", input.Name);
        Assert.Equal(TensorElementType.Float32Ieee, input.ElementType);
        Assert.Equal("[N,300]", input.ShapeText);
        Assert.Equal(["line_probabilities", "element_probabilities"], session.Outputs.Select(o => o.Name));
        Assert.Equal("[N,556]", session.Outputs[0].ShapeText);
        Assert.Equal("[N,41]", session.Outputs[1].ShapeText);
    }
}

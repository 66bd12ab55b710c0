using System.Runtime.CompilerServices;
using XrfEdge.Inference.Native;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// Creates ONNX Runtime's environment from this assembly's own load context before any test runs. ORT keeps one
/// environment per process, and its log callback is the one of whoever created it first.
/// <c>ReviewOrtDefectTests.Initialize_AfterAFailedLoad_CanStillLoadTheBundledLibrary</c> initialises a second copy
/// of XrfEdge.Inference in a fresh AssemblyLoadContext. When that test ran first, ORT's log went to that copy's sink,
/// and <c>OnnxRuntimeLoggingTests</c> saw nothing (2 of 4 runs of the pair, and once in a full `make test`,
/// 2026-11-24). A service has one load context, so this concerns the tests only.
/// </summary>
internal static class OrtEnvironmentFirst
{
#pragma warning disable CA2255 // A test assembly, not a library: the initializer fixes process-wide state before any test.
    [ModuleInitializer]
    internal static void Initialize() => OnnxRuntime.Initialize();
#pragma warning restore CA2255
}

using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using XrfEdge.Inference.Native;
using Xunit.Abstractions;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// Review of the ORT binding (branch review-ort): each test states a defect and fails on the reviewed commit (6ad9a11).
/// </summary>
public sealed class ReviewOrtDefectTests(ITestOutputHelper output)
{
    private const string CrashChildVariable = "XRFEDGE_REVIEW_CRASH_CHILD";

    // D1. EncoderBatch.Dispose is not idempotent: a second Dispose puts the same batch into the pool twice, so two
    // later renters (e.g. two concurrent Identify calls) get the same pinned input/output tensors and overwrite each
    // other's spectra and probabilities.
    [Fact]
    public void EncoderBatch_DisposedTwice_IsNotHandedToTwoRenters()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var batch = encoder.Rent(1);
        batch.Dispose();
        batch.Dispose();

        var first = encoder.Rent(1);
        var second = encoder.Rent(1);

        Assert.NotSame(first, second);
    }

    // D2. InferenceSession.Run passes inputs[i].Handle.DangerousGetHandle() without checking or AddRef-ing the
    // OrtValue SafeHandles: after PinnedTensor.Dispose (ReleaseValue) the stale OrtValue* goes to ORT -> use after
    // free, the process dies (SIGSEGV) instead of an ObjectDisposedException. Run in a child test host so the
    // crash does not take this one down.
    [Fact]
    public async Task Run_WithDisposedInputTensor_ThrowsObjectDisposedInsteadOfCrashing()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "test", Assembly.GetExecutingAssembly().Location, "--filter", $"FullyQualifiedName={typeof(ReviewOrtDefectTests).FullName}.{nameof(CrashChild_RunWithDisposedInputTensor)}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment[CrashChildVariable] = "1";
        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await child.WaitForExitAsync(timeout.Token);
        var text = await stdout + await stderr;
        output.WriteLine(text);

        Assert.DoesNotContain("Test host process crashed", text, StringComparison.Ordinal);
        Assert.Equal(0, child.ExitCode);
    }

    /// <summary>The child half of the test above; does nothing in a normal run.</summary>
    [Fact]
    public void CrashChild_RunWithDisposedInputTensor()
    {
        if (Environment.GetEnvironmentVariable(CrashChildVariable) != "1")
        {
            return;
        }

        var runtime = OnnxRuntime.Initialize();
        using var session = runtime.CreateSession(File.ReadAllBytes(TestModels.Int8), new OnnxSessionOptions());
        var input = session.CreateTensor(1, 300);
        using var lines = session.CreateTensor(1, 556);
        input.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run([input], [0], [lines]));
    }

    // D3. OnnxRuntime.Initialize(libraryPath) after the first load silently returns the already-loaded runtime:
    // LineEncoderOptions.OnnxRuntimeLibraryPath / XRFEDGE_ONNXRUNTIME_PATH of a later encoder is ignored without a
    // word, even when the path is not a library at all.
    [Fact]
    public void Initialize_DifferentLibraryPathAfterLoad_IsNotSilentlyIgnored()
    {
        var loaded = OnnxRuntime.Initialize();
        var other = TestModels.Int8; // an existing file that is certainly not libonnxruntime

        var error = Record.Exception(() =>
        {
            var again = OnnxRuntime.Initialize(other);
            Assert.Equal(Path.GetFullPath(other), again.LibraryPath);
        });

        output.WriteLine($"loaded {loaded.LibraryPath}; second call: {error?.GetType().Name}: {error?.Message}");
        Assert.IsType<OnnxRuntimeException>(error);
    }

    // D4. A failed first load poisons the process: OnnxRuntimeApi.Load calls NativeLibrary.SetDllImportResolver on
    // every attempt, which may only be called once per assembly, so retrying with a good library throws
    // InvalidOperationException ("A resolver is already set for the assembly") instead of loading it. Uses a fresh
    // AssemblyLoadContext so that the process-wide singleton of the other tests does not hide it.
    [Fact]
    public void Initialize_AfterAFailedLoad_CanStillLoadTheBundledLibrary()
    {
        var context = new AssemblyLoadContext("review-ort-" + Guid.NewGuid().ToString("N"));
        var assembly = context.LoadFromAssemblyPath(typeof(OnnxRuntime).Assembly.Location);
        var initialize = assembly.GetType(typeof(OnnxRuntime).FullName!)!.GetMethod(nameof(OnnxRuntime.Initialize))!;
        Exception? Call(string? path)
        {
            try
            {
                initialize.Invoke(null, [path, null]);
                return null;
            }
            catch (TargetInvocationException e)
            {
                return e.InnerException;
            }
        }

        var first = Call(TestModels.Card); // exists, but is not a shared library
        Assert.NotNull(first);
        Assert.Equal(typeof(OnnxRuntimeException).FullName, first.GetType().FullName);

        var second = Call(null); // the bundled runtimes/linux-x64/native/libonnxruntime.so.1
        output.WriteLine($"first: {first.Message}\nsecond: {second?.GetType().FullName}: {second?.Message}");
        Assert.Null(second);
    }

    // D5. LineEncoder pools one EncoderBatch per distinct batch size for its lifetime. SpectrumIdentifier rents
    // min(256, remaining), so a service that sees requests of many sizes keeps ~3.6 KB × B of pinned (POH) tensors
    // per size seen: sizes 1..256 once each pin ~115 MB that is never returned while the encoder lives.
    [Fact]
    public void Identify_ManyDistinctBatchSizes_DoesNotPinATensorSetPerSize()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var identifier = new SpectrumIdentifier(encoder);
        var spectra = Benchmarking.BenchmarkSpectra.Create(SpectrumIdentifier.MaxBatchSize);
        identifier.Identify(spectra[..1]);
        var before = PinnedHeapBytes();

        for (var n = 1; n <= SpectrumIdentifier.MaxBatchSize; n++)
        {
            identifier.Identify(spectra[..n]);
        }

        var retainedMb = (PinnedHeapBytes() - before) / 1048576.0;
        output.WriteLine($"pinned object heap retained by the encoder's pool: {retainedMb:F1} MB");
        Assert.InRange(retainedMb, double.MinValue, 16);
    }

    private static long PinnedHeapBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).GenerationInfo[4].SizeAfterBytes;
    }
}

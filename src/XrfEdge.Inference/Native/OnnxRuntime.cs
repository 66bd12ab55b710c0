using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace XrfEdge.Inference.Native;

/// <summary>
/// The process's ONNX Runtime: the native library (found by <see cref="LocateLibrary"/>), the negotiated API version
/// and the one OrtEnv, whose log lines go to the logger given at <see cref="Initialize"/>. Shaped like
/// Microsoft.ML.OnnxRuntime's OrtEnv: create sessions from it with <see cref="CreateSession"/>.
/// </summary>
public sealed unsafe class OnnxRuntime
{
    /// <summary>Environment variable naming another libonnxruntime (e.g. JetPack's /usr/lib/aarch64-linux-gnu/libonnxruntime.so.1.16.0).</summary>
    public const string LibraryPathVariable = "XRFEDGE_ONNXRUNTIME_PATH";

    /// <summary>File name of the runtime library fetched by scripts/fetch-onnxruntime.sh.</summary>
    public const string LibraryFileName = "libonnxruntime.so.1";

    private static readonly Lock Gate = new();
    private static OnnxRuntime? s_instance;
    private readonly OrtEnvHandle _env;

    private OnnxRuntime(string libraryPath, OrtEnvHandle env, OrtMemoryInfoHandle memoryInfo)
    {
        LibraryPath = libraryPath;
        _env = env;
        CpuMemoryInfo = memoryInfo;
    }

    /// <summary>Full path of the loaded libonnxruntime.</summary>
    public string LibraryPath { get; }

    /// <summary>Version the runtime reports, e.g. "1.30.0".</summary>
    public static string Version => OnnxRuntimeApi.RuntimeVersion;

    /// <summary>The OrtApi version negotiated (16–30).</summary>
    public static int ApiVersion => OnnxRuntimeApi.ApiVersion;

    /// <summary>Whether SetDeterministicCompute exists in this runtime (API 17+).</summary>
    public static bool SupportsDeterministicCompute => OnnxRuntimeApi.ApiVersion >= OnnxRuntimeApi.DeterministicComputeApiVersion;

    /// <summary>ORT's build description (git commit, build type).</summary>
    public static string BuildInfo => OnnxRuntimeApi.BuildInfo();

    internal OrtMemoryInfoHandle CpuMemoryInfo { get; }

    internal ILogger Logger { get; private set; } = NullLogger.Instance;

    /// <summary>
    /// Loads the runtime once per process (later calls return the same instance and only re-route logging). A failed
    /// load leaves nothing behind: a later call may try again, e.g. with another path.
    /// </summary>
    /// <param name="libraryPath">
    /// Explicit libonnxruntime path, or null to search (see <see cref="LocateLibrary"/>). Once a runtime is loaded, an
    /// explicit path must name the same file (after <see cref="Path.GetFullPath(string)"/>): one process can hold only one.
    /// </param>
    /// <param name="logger">Receives ORT's warnings and errors and the load message; null discards them.</param>
    /// <exception cref="OnnxRuntimeException">The library is missing, cannot be loaded, is not ORT 1.16 – 1.x, or
    /// <paramref name="libraryPath"/> differs from the runtime already loaded (the message names both paths).</exception>
    public static OnnxRuntime Initialize(string? libraryPath = null, ILogger? logger = null)
    {
        lock (Gate)
        {
            if (s_instance is { } existing)
            {
                if (!string.IsNullOrWhiteSpace(libraryPath) && !string.Equals(Path.GetFullPath(libraryPath), existing.LibraryPath, StringComparison.Ordinal))
                {
                    throw new OnnxRuntimeException(OnnxRuntimeErrorCode.InvalidArgument,
                        $"ONNX Runtime is already loaded from '{existing.LibraryPath}' in this process; the requested '{Path.GetFullPath(libraryPath)}' " +
                        "cannot be loaded besides it (configure one ONNX Runtime library per process)");
                }

                if (logger is not null)
                {
                    existing.Logger = logger;
                    OnnxRuntimeLogSink.Attach(logger);
                }

                return existing;
            }

            var path = LocateLibrary(libraryPath);
            var refused = OnnxRuntimeApi.Load(path);
            var log = logger ?? NullLogger.Instance;
            OnnxRuntimeLogSink.Attach(log);
            if (refused.Count > 0)
            {
                Log.ApiVersionFallback(log, OnnxRuntimeApi.RuntimeVersion, string.Join(',', refused), OnnxRuntimeApi.ApiVersion, OnnxRuntimeApi.OldestSupportedApiVersion);
            }

            Log.RuntimeLoaded(log, refused.Count > 0 || OnnxRuntimeApi.ApiVersion < OnnxRuntimeApi.NewestKnownApiVersion ? LogLevel.Information : LogLevel.Debug,
                OnnxRuntimeApi.RuntimeVersion, path, OnnxRuntimeApi.ApiVersion);

            // Severity WARNING (2): ORT's informational chatter stays out of a service log.
            var env = new OrtEnvHandle();
            env.Set(OnnxRuntimeApi.CreateEnvWithCustomLogger(&OnnxRuntimeLogCallback.OnLog, 2, "xrfedge"));
            s_instance = new OnnxRuntime(path, env, OnnxRuntimeApi.CreateCpuMemoryInfo()) { Logger = log };
            return s_instance;
        }
    }

    /// <summary>
    /// Finds libonnxruntime: <paramref name="configuredPath"/>, else $XRFEDGE_ONNXRUNTIME_PATH, else
    /// runtimes/&lt;rid&gt;/native/libonnxruntime.so.1 (or libonnxruntime.so.1) in the application folder, else the system
    /// loader's search path (an installed libonnxruntime.so.1).
    /// </summary>
    /// <exception cref="OnnxRuntimeException">A configured path does not exist, or nothing was found.</exception>
    public static string LocateLibrary(string? configuredPath = null)
    {
        var explicitPath = configuredPath ?? Environment.GetEnvironmentVariable(LibraryPathVariable);
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var full = Path.GetFullPath(explicitPath);
            return File.Exists(full)
                ? full
                : throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NoSuchFile,
                    $"the configured ONNX Runtime library '{full}' does not exist ({(configuredPath is null ? LibraryPathVariable : "configured path")})");
        }

        var rid = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "linux-x64",
            Architecture.Arm64 => "linux-arm64",
            var other => "linux-" + other.ToString().ToLowerInvariant(),
        };
        var tried = new List<string>();
        foreach (var dir in new[] { AppContext.BaseDirectory })
        {
            if (dir.Length == 0)
            {
                continue;
            }

            foreach (var candidate in new[] { Path.Combine(dir, "runtimes", rid, "native", LibraryFileName), Path.Combine(dir, LibraryFileName) })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }

                tried.Add(candidate);
            }
        }

        if (NativeLibrary.TryLoad(LibraryFileName, out var system))
        {
            NativeLibrary.Free(system);
            return LibraryFileName;
        }

        tried.Add($"{LibraryFileName} on the system library path");
        throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NoSuchFile,
            $"ONNX Runtime ({LibraryFileName}) not found; looked in: {string.Join("; ", tried)}. " +
            $"Build the project (its build runs scripts/fetch-onnxruntime.sh) or set {LibraryPathVariable} to a libonnxruntime.so.");
    }

    /// <summary>Creates a session from ONNX model bytes (the bytes are parsed and copied by ORT).</summary>
    /// <exception cref="OnnxRuntimeException">ORT refused the model or the options; the message is ORT's.</exception>
    public InferenceSession CreateSession(ReadOnlySpan<byte> model, OnnxSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var native = OnnxRuntimeApi.CreateSessionOptions();
        OnnxRuntimeApi.SetIntraOpNumThreads(native, options.IntraOpThreads);
        OnnxRuntimeApi.SetInterOpNumThreads(native, options.InterOpThreads);
        OnnxRuntimeApi.SetGraphOptimizationLevel(native, (int)options.GraphOptimization);
        OnnxRuntimeApi.SetSessionLogSeverityLevel(native, Math.Clamp(options.LogSeverityLevel, 0, 4));
        OnnxRuntimeApi.AddSessionConfigEntry(native, "session.intra_op.allow_spinning", options.AllowSpinning ? "1" : "0");
        if (options.DeterministicCompute)
        {
            if (SupportsDeterministicCompute)
            {
                OnnxRuntimeApi.SetDeterministicCompute(native, true);
            }
            else
            {
                Log.DeterministicComputeUnavailable(Logger, ApiVersion, OnnxRuntimeApi.DeterministicComputeApiVersion);
            }
        }

        if (options.OptimizedModelPath is { } optimized)
        {
            OnnxRuntimeApi.SetOptimizedModelFilePath(native, Path.GetFullPath(optimized));
        }

        var session = OnnxRuntimeApi.CreateSessionFromArray(_env, model, native);
        return new InferenceSession(this, session);
    }
}

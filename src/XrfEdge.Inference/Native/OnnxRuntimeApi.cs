using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XrfEdge.Inference.Native;

// The ONNX Runtime C API, bound by hand because the Microsoft.ML.OnnxRuntime NuGet package is not obtainable here.
// ORT exports one C symbol, OrtGetApiBase; everything else is a slot of the OrtApi function table, read as an
// unmanaged function pointer. Slot numbers come from onnxruntime_c_api.h (API 29, append-only, so valid for 1.30)
// and were verified against the real 1.30 library: ../shared/reference/onnxruntime-c-api.md §2.2.
// Every call that returns OrtStatus* goes through Check, which turns a non-null status into an
// OnnxRuntimeException carrying ORT's own message and releases the status.

/// <summary>The OrtApi function table of the loaded runtime and thin, status-checked wrappers over its slots.</summary>
internal static unsafe class OnnxRuntimeApi
{
    /// <summary>Newest API version whose slot layout this binding knows (ORT 1.30).</summary>
    public const int NewestKnownApiVersion = 30;

    /// <summary>Oldest API version the binding runs on (ORT 1.16, the JetPack 5/6 build): every slot used is ≤ 254 except deterministic compute.</summary>
    public const int OldestSupportedApiVersion = 16;

    /// <summary>First API version with SetDeterministicCompute (slot 273).</summary>
    public const int DeterministicComputeApiVersion = 17;

    // ONNXTensorElementDataType values used here (onnxruntime_c_api.h).
    public const int ElementTypeFloat = 1;

    private static void** s_api;

    [StructLayout(LayoutKind.Sequential)]
    private struct OrtApiBase
    {
        public delegate* unmanaged<uint, void**> GetApi;
        public delegate* unmanaged<byte*> GetVersionString;
    }

    /// <summary>API version negotiated with the loaded runtime (0 before <see cref="Load"/>).</summary>
    public static int ApiVersion { get; private set; }

    /// <summary>Version string the runtime reports, e.g. "1.30.0".</summary>
    public static string RuntimeVersion { get; private set; } = string.Empty;

    /// <summary>
    /// Loads the library at <paramref name="libraryPath"/> (NativeLibrary.Load, then its one export OrtGetApiBase called
    /// through a function pointer) and negotiates the API version: the runtime's minor version capped at
    /// <see cref="NewestKnownApiVersion"/>, stepping down to <see cref="OldestSupportedApiVersion"/> if the runtime refuses it.
    /// Nothing process-wide is set before success, so a failed load can be retried with another library (a DllImport
    /// resolver, used before, may be set only once per assembly and made every retry fail).
    /// </summary>
    /// <returns>The versions tried and refused before the one accepted (for the caller's log).</returns>
    /// <exception cref="OnnxRuntimeException">The file cannot be loaded, has no OrtGetApiBase, or its version is not
    /// supported; the message names <paramref name="libraryPath"/>.</exception>
    public static IReadOnlyList<int> Load(string libraryPath)
    {
        nint library;
        try
        {
            library = NativeLibrary.Load(libraryPath);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
        {
            throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NoSuchFile, $"cannot load ONNX Runtime from '{libraryPath}': {e.Message}");
        }

        try
        {
            if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var export))
            {
                throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NoSuchFile, $"'{libraryPath}' is not ONNX Runtime: it does not export OrtGetApiBase");
            }

            var apiBase = ((delegate* unmanaged<OrtApiBase*>)export)();
            if (apiBase is null)
            {
                throw new OnnxRuntimeException(OnnxRuntimeErrorCode.Fail, $"OrtGetApiBase of '{libraryPath}' returned null");
            }

            var version = Marshal.PtrToStringUTF8((nint)apiBase->GetVersionString()) ?? "unknown";
            var refused = Negotiate(apiBase, version, libraryPath, out var api, out var apiVersion);
            s_api = api;
            ApiVersion = apiVersion;
            RuntimeVersion = version;
            return refused;
        }
        catch
        {
            // Nothing of this library has been handed out (no table, no env): unload it so a retry starts clean.
            NativeLibrary.Free(library);
            throw;
        }
    }

    private static List<int> Negotiate(OrtApiBase* apiBase, string version, string libraryPath, out void** api, out int apiVersion)
    {
        var minor = CheckVersion(version, libraryPath);
        var refused = new List<int>();
        var start = Math.Min(minor ?? NewestKnownApiVersion, NewestKnownApiVersion);
        for (var candidate = start; candidate >= OldestSupportedApiVersion; candidate--)
        {
            api = apiBase->GetApi((uint)candidate);
            if (api is not null)
            {
                apiVersion = candidate;
                return refused;
            }

            refused.Add(candidate);
        }

        throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NotImplemented,
            $"ONNX Runtime {version} at '{libraryPath}' refused every API version from {start} down to {OldestSupportedApiVersion}");
    }

    /// <summary>
    /// Refuses a runtime this binding cannot drive: another major version than 1 (the OrtApi slot layout is append-only
    /// only within 1.x) or a 1.x older than <see cref="OldestSupportedApiVersion"/>. Returns the minor version, or null
    /// when the string does not parse (then the newest known API is tried).
    /// </summary>
    internal static int? CheckVersion(string version, string libraryPath)
    {
        var major = ParseMajor(version);
        var minor = ParseMinor(version);
        if (major is { } j && j != 1)
        {
            // The slot layout is only append-only within a major version; a 2.x table may differ anywhere.
            throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NotImplemented,
                $"ONNX Runtime {version} at '{libraryPath}' is major version {j}; the binding knows the OrtApi slot layout of 1.x only " +
                $"(API versions {OldestSupportedApiVersion}–{NewestKnownApiVersion}) — use a 1.x runtime or update the binding");
        }

        if (minor is { } m && m < OldestSupportedApiVersion)
        {
            throw new OnnxRuntimeException(OnnxRuntimeErrorCode.NotImplemented,
                $"ONNX Runtime {version} at '{libraryPath}' is too old: the binding needs API version {OldestSupportedApiVersion} (ORT 1.{OldestSupportedApiVersion}) or newer");
        }

        return minor;
    }

    internal static int? ParseMajor(string version) => ParsePart(version, 0);

    internal static int? ParseMinor(string version) => ParsePart(version, 1);

    private static int? ParsePart(string version, int index)
    {
        var parts = version.Split('.');
        return parts.Length >= 2 && int.TryParse(parts[index], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private static void* Slot(int index) => s_api[index];

    /// <summary>Throws the status as an exception (after releasing it) when it is not null.</summary>
    public static void Check(void* status)
    {
        if (status is null)
        {
            return;
        }

        var code = ((delegate* unmanaged<void*, int>)Slot(1))(status);
        var message = Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<void*, byte*>)Slot(2))(status)) ?? "(no message)";
        ((delegate* unmanaged<void*, void>)Slot(93))(status);
        throw new OnnxRuntimeException((OnnxRuntimeErrorCode)code, message);
    }

    // ---- environment ---------------------------------------------------------------------------------------------

    /// <summary>Slot 4 CreateEnvWithCustomLogger.</summary>
    public static nint CreateEnvWithCustomLogger(delegate* unmanaged<void*, int, byte*, byte*, byte*, byte*, void> logger, int severity, string logId)
    {
        var id = Utf8(logId);
        void* env;
        fixed (byte* p = id)
        {
            Check(((delegate* unmanaged<void*, void*, int, byte*, void**, void*>)Slot(4))(logger, null, severity, p, &env));
        }

        return (nint)env;
    }

    /// <summary>Slot 254 GetBuildInfoString (API 15+).</summary>
    public static string BuildInfo() => Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<byte*>)Slot(254))()) ?? string.Empty;

    // ---- session options -----------------------------------------------------------------------------------------

    /// <summary>Slot 10 CreateSessionOptions.</summary>
    public static OrtSessionOptionsHandle CreateSessionOptions()
    {
        void* options;
        Check(((delegate* unmanaged<void**, void*>)Slot(10))(&options));
        var handle = new OrtSessionOptionsHandle();
        Marshal.InitHandle(handle, (nint)options);
        return handle;
    }

    /// <summary>Slot 11 SetOptimizedModelFilePath (ORTCHAR_T is UTF-8 char on Linux).</summary>
    public static void SetOptimizedModelFilePath(OrtSessionOptionsHandle options, string path)
    {
        var bytes = Utf8(path);
        fixed (byte* p = bytes)
        {
            Check(((delegate* unmanaged<nint, byte*, void*>)Slot(11))(options.DangerousGetHandle(), p));
        }
    }

    /// <summary>Slot 22 SetSessionLogSeverityLevel.</summary>
    public static void SetSessionLogSeverityLevel(OrtSessionOptionsHandle options, int severity) =>
        Check(((delegate* unmanaged<nint, int, void*>)Slot(22))(options.DangerousGetHandle(), severity));

    /// <summary>Slot 23 SetSessionGraphOptimizationLevel (0, 1, 2, 99 = all).</summary>
    public static void SetGraphOptimizationLevel(OrtSessionOptionsHandle options, int level) =>
        Check(((delegate* unmanaged<nint, int, void*>)Slot(23))(options.DangerousGetHandle(), level));

    /// <summary>Slot 24 SetIntraOpNumThreads.</summary>
    public static void SetIntraOpNumThreads(OrtSessionOptionsHandle options, int threads) =>
        Check(((delegate* unmanaged<nint, int, void*>)Slot(24))(options.DangerousGetHandle(), threads));

    /// <summary>Slot 25 SetInterOpNumThreads.</summary>
    public static void SetInterOpNumThreads(OrtSessionOptionsHandle options, int threads) =>
        Check(((delegate* unmanaged<nint, int, void*>)Slot(25))(options.DangerousGetHandle(), threads));

    /// <summary>Slot 130 AddSessionConfigEntry (API 5+). ORT does not reject unknown keys.</summary>
    public static void AddSessionConfigEntry(OrtSessionOptionsHandle options, string key, string value)
    {
        var k = Utf8(key);
        var v = Utf8(value);
        fixed (byte* pk = k)
        fixed (byte* pv = v)
        {
            Check(((delegate* unmanaged<nint, byte*, byte*, void*>)Slot(130))(options.DangerousGetHandle(), pk, pv));
        }
    }

    /// <summary>Slot 273 SetDeterministicCompute (API 17+); callers check <see cref="ApiVersion"/> first.</summary>
    public static void SetDeterministicCompute(OrtSessionOptionsHandle options, bool value) =>
        Check(((delegate* unmanaged<nint, byte, void*>)Slot(273))(options.DangerousGetHandle(), value ? (byte)1 : (byte)0));

    // ---- session -------------------------------------------------------------------------------------------------

    /// <summary>Slot 8 CreateSessionFromArray. ORT parses and copies the bytes; the array need not outlive the call.</summary>
    public static OrtSessionHandle CreateSessionFromArray(OrtEnvHandle env, ReadOnlySpan<byte> model, OrtSessionOptionsHandle options)
    {
        void* session;
        fixed (byte* p = model)
        {
            Check(((delegate* unmanaged<nint, byte*, nuint, nint, void**, void*>)Slot(8))(
                env.DangerousGetHandle(), p, (nuint)model.Length, options.DangerousGetHandle(), &session));
        }

        var handle = new OrtSessionHandle();
        Marshal.InitHandle(handle, (nint)session);
        return handle;
    }

    /// <summary>Slots 30/31 SessionGetInputCount / SessionGetOutputCount.</summary>
    public static int GetCount(OrtSessionHandle session, bool outputs)
    {
        nuint count;
        Check(((delegate* unmanaged<nint, nuint*, void*>)Slot(outputs ? 31 : 30))(session.DangerousGetHandle(), &count));
        return checked((int)count);
    }

    /// <summary>Slots 36/37 SessionGetInputName / SessionGetOutputName; the string is freed with AllocatorFree (76).</summary>
    public static string GetName(OrtSessionHandle session, int index, bool output)
    {
        void* allocator;
        Check(((delegate* unmanaged<void**, void*>)Slot(78))(&allocator));
        byte* name;
        Check(((delegate* unmanaged<nint, nuint, void*, byte**, void*>)Slot(output ? 37 : 36))(session.DangerousGetHandle(), (nuint)index, allocator, &name));
        try
        {
            return Marshal.PtrToStringUTF8((nint)name) ?? string.Empty;
        }
        finally
        {
            Check(((delegate* unmanaged<void*, void*, void*>)Slot(76))(allocator, name));
        }
    }

    /// <summary>
    /// Slots 33/34 (type info), 55 (cast to tensor info, borrowed), 60–63 (element type, dims, symbolic dims), 98 (release).
    /// Returns null for a non-tensor input or output.
    /// </summary>
    public static TensorMetadata? GetTensorMetadata(OrtSessionHandle session, int index, bool output, string name)
    {
        void* typeInfo;
        Check(((delegate* unmanaged<nint, nuint, void**, void*>)Slot(output ? 34 : 33))(session.DangerousGetHandle(), (nuint)index, &typeInfo));
        try
        {
            void* tensorInfo;
            Check(((delegate* unmanaged<void*, void**, void*>)Slot(55))(typeInfo, &tensorInfo));
            if (tensorInfo is null)
            {
                return null;
            }

            int elementType;
            Check(((delegate* unmanaged<void*, int*, void*>)Slot(60))(tensorInfo, &elementType));
            nuint rank;
            Check(((delegate* unmanaged<void*, nuint*, void*>)Slot(61))(tensorInfo, &rank));
            var dims = new long[(int)rank];
            var symbols = new byte*[(int)rank];
            fixed (long* pd = dims)
            fixed (byte** ps = symbols)
            {
                Check(((delegate* unmanaged<void*, long*, nuint, void*>)Slot(62))(tensorInfo, pd, rank));
                Check(((delegate* unmanaged<void*, byte**, nuint, void*>)Slot(63))(tensorInfo, ps, rank));
            }

            var symbolic = new string[(int)rank];
            for (var i = 0; i < symbolic.Length; i++)
            {
                symbolic[i] = symbols[i] is null ? string.Empty : Marshal.PtrToStringUTF8((nint)symbols[i]) ?? string.Empty;
            }

            return new TensorMetadata(name, (TensorElementType)elementType, dims, symbolic);
        }
        finally
        {
            ((delegate* unmanaged<void*, void>)Slot(98))(typeInfo);
        }
    }

    /// <summary>
    /// Slot 9 Run with caller-allocated outputs: ORT writes into the given OrtValues (shapes must match).
    /// All arrays are native pointers prepared once per binding, so the call allocates nothing managed.
    /// </summary>
    public static void Run(nint session, byte** inputNames, nint* inputs, int inputCount, byte** outputNames, int outputCount, nint* outputs) =>
        Check(((delegate* unmanaged<nint, void*, byte**, nint*, nuint, byte**, nuint, nint*, void*>)Slot(9))(
            session, null, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs));

    // ---- tensors -------------------------------------------------------------------------------------------------

    /// <summary>Slot 69 CreateCpuMemoryInfo(OrtDeviceAllocator = 0, OrtMemTypeDefault = 0) for caller-owned buffers.</summary>
    public static OrtMemoryInfoHandle CreateCpuMemoryInfo()
    {
        void* info;
        Check(((delegate* unmanaged<int, int, void**, void*>)Slot(69))(0, 0, &info));
        var handle = new OrtMemoryInfoHandle();
        Marshal.InitHandle(handle, (nint)info);
        return handle;
    }

    /// <summary>
    /// Slot 49 CreateTensorWithDataAsOrtValue: a float tensor over <paramref name="data"/> (no copy, no free);
    /// the caller keeps the memory pinned for the value's lifetime.
    /// </summary>
    public static OrtValueHandle CreateFloatTensor(OrtMemoryInfoHandle memoryInfo, float* data, int elementCount, ReadOnlySpan<long> shape)
    {
        void* value;
        fixed (long* ps = shape)
        {
            Check(((delegate* unmanaged<nint, void*, nuint, long*, nuint, int, void**, void*>)Slot(49))(
                memoryInfo.DangerousGetHandle(), data, (nuint)elementCount * sizeof(float), ps, (nuint)shape.Length, ElementTypeFloat, &value));
        }

        var handle = new OrtValueHandle();
        Marshal.InitHandle(handle, (nint)value);
        return handle;
    }

    // ---- releases (92–100; all accept NULL) ---------------------------------------------------------------------

    public static void ReleaseEnv(nint p) => ((delegate* unmanaged<nint, void>)Slot(92))(p);

    public static void ReleaseMemoryInfo(nint p) => ((delegate* unmanaged<nint, void>)Slot(94))(p);

    public static void ReleaseSession(nint p) => ((delegate* unmanaged<nint, void>)Slot(95))(p);

    public static void ReleaseValue(nint p) => ((delegate* unmanaged<nint, void>)Slot(96))(p);

    public static void ReleaseSessionOptions(nint p) => ((delegate* unmanaged<nint, void>)Slot(100))(p);

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/> (ORT reads C strings).</summary>
    public static byte[] Utf8(string text)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(text) + 1];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }

    /// <summary>A NUL-terminated UTF-8 copy in native memory (freed with <see cref="NativeMemory.Free"/>).</summary>
    public static byte* NativeUtf8(string text)
    {
        var bytes = Utf8(text);
        var p = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        return p;
    }
}

/// <summary>An OrtEnv*; one per process (ORT ref-counts CreateEnv).</summary>
internal sealed class OrtEnvHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public OrtEnvHandle()
        : base(ownsHandle: true)
    {
    }

    internal void Set(nint value) => SetHandle(value);

    protected override bool ReleaseHandle()
    {
        OnnxRuntimeApi.ReleaseEnv(handle);
        return true;
    }
}

/// <summary>An OrtSessionOptions*; released once the session exists.</summary>
internal sealed class OrtSessionOptionsHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public OrtSessionOptionsHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        OnnxRuntimeApi.ReleaseSessionOptions(handle);
        return true;
    }
}

/// <summary>
/// An OrtSession* and the NUL-terminated UTF-8 input/output name arrays that Run passes with it. The names live exactly
/// as long as the session: a Run holds a reference (DangerousAddRef) to this handle, so ReleaseHandle, which frees
/// both, runs only after the last concurrent Run has returned.
/// </summary>
internal sealed unsafe class OrtSessionHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private int _inputCount;
    private int _outputCount;

    public OrtSessionHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Input names in session order (native, owned by this handle); valid while a reference is held.</summary>
    public byte** InputNames { get; private set; }

    /// <summary>Output names in session order (native, owned by this handle); valid while a reference is held.</summary>
    public byte** OutputNames { get; private set; }

    /// <summary>Takes ownership of the name arrays (each an array of <see cref="OnnxRuntimeApi.NativeUtf8"/> strings).</summary>
    public void AdoptNames(byte** inputNames, int inputCount, byte** outputNames, int outputCount)
    {
        InputNames = inputNames;
        _inputCount = inputCount;
        OutputNames = outputNames;
        _outputCount = outputCount;
    }

    protected override bool ReleaseHandle()
    {
        OnnxRuntimeApi.ReleaseSession(handle);
        FreeNames(InputNames, _inputCount);
        FreeNames(OutputNames, _outputCount);
        InputNames = null;
        OutputNames = null;
        return true;
    }

    private static void FreeNames(byte** names, int count)
    {
        if (names is null)
        {
            return;
        }

        for (var i = 0; i < count; i++)
        {
            NativeMemory.Free(names[i]);
        }

        NativeMemory.Free(names);
    }
}

/// <summary>An OrtMemoryInfo*.</summary>
internal sealed class OrtMemoryInfoHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public OrtMemoryInfoHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        OnnxRuntimeApi.ReleaseMemoryInfo(handle);
        return true;
    }
}

/// <summary>An OrtValue* (here always a tensor over caller-owned memory).</summary>
internal sealed class OrtValueHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public OrtValueHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        OnnxRuntimeApi.ReleaseValue(handle);
        return true;
    }
}

/// <summary>Receives ORT's log lines (slot 4's OrtLoggingFunction) and hands them to <see cref="OnnxRuntimeLogSink"/>.</summary>
internal static unsafe class OnnxRuntimeLogCallback
{
    [UnmanagedCallersOnly]
    public static void OnLog(void* param, int severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        // An exception must never unwind into native code.
        try
        {
            OnnxRuntimeLogSink.Write(severity, Marshal.PtrToStringUTF8((nint)category), Marshal.PtrToStringUTF8((nint)message));
        }
#pragma warning disable CA1031 // see above: nothing may escape a native callback
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }
}

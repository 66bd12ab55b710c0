using Microsoft.Extensions.Logging;

namespace XrfEdge.Inference;

/// <summary>Source-generated log messages of XrfEdge.Inference (event ids 4000–4099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Message = "ONNX Runtime {Version} loaded from {LibraryPath} (API version {ApiVersion})")]
    public static partial void RuntimeLoaded(ILogger logger, LogLevel level, string version, string libraryPath, int apiVersion);

    [LoggerMessage(EventId = 4001, Message = "ORT [{Category}] {Message}")]
    public static partial void OnnxRuntimeMessage(ILogger logger, LogLevel level, string category, string message);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "ONNX Runtime {Version} refused API versions {Refused}; using API {ApiVersion} (oldest supported {Oldest})")]
    public static partial void ApiVersionFallback(ILogger logger, string version, string refused, int apiVersion, int oldest);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "ONNX Runtime API {ApiVersion} < {Needed}: deterministic compute is not available and stays off")]
    public static partial void DeterministicComputeUnavailable(ILogger logger, int apiVersion, int needed);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Model {Name} {Version} ({Precision}, sha256 {Sha256}) loaded from {Path}")]
    public static partial void ModelLoaded(ILogger logger, string name, string version, string precision, string sha256, string path);
}

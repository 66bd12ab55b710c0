using Microsoft.Extensions.Logging;

namespace XrfEdge.Inference.Native;

/// <summary>Where ORT's own log lines go: the logger given to <see cref="OnnxRuntime.Initialize"/>.</summary>
internal static class OnnxRuntimeLogSink
{
    private static volatile ILogger? s_logger;

    public static void Attach(ILogger? logger) => s_logger = logger;

    /// <summary>Maps OrtLoggingLevel (0 verbose … 4 fatal) to a log level and writes the line.</summary>
    public static void Write(int severity, string? category, string? message)
    {
        var logger = s_logger;
        if (logger is null)
        {
            return;
        }

        var level = severity switch
        {
            0 => LogLevel.Trace,
            1 => LogLevel.Debug,
            2 => LogLevel.Warning,
            3 => LogLevel.Error,
            _ => LogLevel.Critical,
        };
        Log.OnnxRuntimeMessage(logger, level, category ?? "ort", message ?? string.Empty);
    }
}

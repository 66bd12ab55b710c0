namespace XrfEdge.Inference.Native;

/// <summary>A failed ONNX Runtime call: ORT's error code and its own message, unchanged.</summary>
public sealed class OnnxRuntimeException : Exception
{
    /// <summary>How the message of an exception with an error code starts: "ONNX Runtime Fail: …".</summary>
    public const string MessagePrefix = "ONNX Runtime ";

    /// <summary>Creates the exception.</summary>
    public OnnxRuntimeException(OnnxRuntimeErrorCode errorCode, string message)
        : base($"{MessagePrefix}{errorCode}: {message}")
    {
        ErrorCode = errorCode;
        RuntimeMessage = message;
    }

    /// <summary>Creates an exception with code <see cref="OnnxRuntimeErrorCode.Fail"/>.</summary>
    public OnnxRuntimeException()
        : this(OnnxRuntimeErrorCode.Fail, "unspecified failure")
    {
    }

    /// <summary>Creates an exception with code <see cref="OnnxRuntimeErrorCode.Fail"/>.</summary>
    public OnnxRuntimeException(string message)
        : this(OnnxRuntimeErrorCode.Fail, message)
    {
    }

    /// <summary>Creates an exception with code <see cref="OnnxRuntimeErrorCode.Fail"/> wrapping another.</summary>
    public OnnxRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = OnnxRuntimeErrorCode.Fail;
        RuntimeMessage = message;
    }

    /// <summary>ORT's error code.</summary>
    public OnnxRuntimeErrorCode ErrorCode { get; }

    /// <summary>The message exactly as ORT returned it (GetErrorMessage).</summary>
    public string RuntimeMessage { get; }
}

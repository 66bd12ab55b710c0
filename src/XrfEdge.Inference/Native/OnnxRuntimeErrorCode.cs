namespace XrfEdge.Inference.Native;

/// <summary>ORT's OrtErrorCode (onnxruntime_c_api.h), carried by <see cref="OnnxRuntimeException"/>.</summary>
public enum OnnxRuntimeErrorCode
{
    /// <summary>ORT_OK.</summary>
    Ok = 0,

    /// <summary>ORT_FAIL: generic failure (shape inference, graph validation, opset).</summary>
    Fail = 1,

    /// <summary>ORT_INVALID_ARGUMENT: bad input dimensions, unknown input name, empty model.</summary>
    InvalidArgument = 2,

    /// <summary>ORT_NO_SUCHFILE (also used here when the native library cannot be found or loaded).</summary>
    NoSuchFile = 3,

    /// <summary>ORT_NO_MODEL.</summary>
    NoModel = 4,

    /// <summary>ORT_ENGINE_ERROR.</summary>
    EngineError = 5,

    /// <summary>ORT_RUNTIME_EXCEPTION.</summary>
    RuntimeException = 6,

    /// <summary>ORT_INVALID_PROTOBUF: the bytes are not an ONNX model (truncated, random).</summary>
    InvalidProtobuf = 7,

    /// <summary>ORT_MODEL_LOADED.</summary>
    ModelLoaded = 8,

    /// <summary>ORT_NOT_IMPLEMENTED (also used here for an unsupported runtime version).</summary>
    NotImplemented = 9,

    /// <summary>ORT_INVALID_GRAPH.</summary>
    InvalidGraph = 10,

    /// <summary>ORT_EP_FAIL.</summary>
    EpFail = 11,
}

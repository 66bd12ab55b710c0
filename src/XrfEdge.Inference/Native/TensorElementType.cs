namespace XrfEdge.Inference.Native;

/// <summary>ONNXTensorElementDataType values (onnxruntime_c_api.h) that a model contract may name.</summary>
public enum TensorElementType
{
    /// <summary>Not a tensor or not set.</summary>
    Undefined = 0,

    /// <summary>float32 — the only type the line encoder accepts for its input and outputs.</summary>
    Float32Ieee = 1,

    /// <summary>uint8.</summary>
    Unsigned8 = 2,

    /// <summary>int8.</summary>
    Signed8 = 3,

    /// <summary>int32.</summary>
    Signed32 = 6,

    /// <summary>int64.</summary>
    Signed64 = 7,

    /// <summary>string.</summary>
    Text = 8,

    /// <summary>float16.</summary>
    HalfPrecision = 10,

    /// <summary>float64.</summary>
    DoublePrecision = 11,
}

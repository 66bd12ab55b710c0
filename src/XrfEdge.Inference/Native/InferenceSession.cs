using System.Runtime.InteropServices;

namespace XrfEdge.Inference.Native;

/// <summary>
/// One ORT session: its inputs and outputs as ORT reports them, and <see cref="Run"/> over caller-owned
/// <see cref="PinnedTensor"/>s. <see cref="Run"/> may be called concurrently from several threads (ORT guarantees it)
/// as long as each caller uses its own tensors; it allocates nothing managed.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly OnnxRuntime _runtime;
    private readonly OrtSessionHandle _handle;
    private int _disposed;

    internal InferenceSession(OnnxRuntime runtime, OrtSessionHandle handle)
    {
        _runtime = runtime;
        _handle = handle;
        Inputs = ReadMetadata(handle, output: false);
        Outputs = ReadMetadata(handle, output: true);
        // The native name arrays belong to the session handle and are freed in its ReleaseHandle, i.e. only after the
        // last Run that AddRef'd the handle has released it: a Dispose racing a Run cannot free them under ORT.
        handle.AdoptNames(NativeNames(Inputs), Inputs.Count, NativeNames(Outputs), Outputs.Count);
    }

    /// <summary>Graph inputs, in session order.</summary>
    public IReadOnlyList<TensorMetadata> Inputs { get; }

    /// <summary>Graph outputs, in session order.</summary>
    public IReadOnlyList<TensorMetadata> Outputs { get; }

    /// <summary>Index of the output named <paramref name="name"/>, or -1.</summary>
    public int OutputIndex(string name)
    {
        for (var i = 0; i < Outputs.Count; i++)
        {
            if (Outputs[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Creates a float32 tensor of <paramref name="shape"/> over a pinned, zeroed managed buffer.</summary>
    public PinnedTensor CreateTensor(params long[] shape) => new(_runtime.CpuMemoryInfo, shape);

    internal OrtMemoryInfoHandle CpuMemoryInfo => _runtime.CpuMemoryInfo;

    /// <summary>
    /// Runs the graph: <paramref name="inputs"/> are all graph inputs in <see cref="Inputs"/> order; ORT writes output
    /// <paramref name="outputIndices"/>[i] into <paramref name="outputs"/>[i] in place (its shape must match).
    /// Shapes are checked here before ORT sees them (rank, fixed dimensions, and one value per symbolic dimension such as
    /// the batch N): every run ORT itself rejects leaks about 1.5 KB inside ORT.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of tensors, an output index out of range, or a shape that does
    /// not fit the graph (the message names the tensor, its shape and the expected one).</exception>
    /// <exception cref="ObjectDisposedException">The session or one of the tensors has been disposed.</exception>
    /// <exception cref="OnnxRuntimeException">ORT rejected or failed the run; the message is ORT's.</exception>
    public void Run(ReadOnlySpan<PinnedTensor> inputs, ReadOnlySpan<int> outputIndices, ReadOnlySpan<PinnedTensor> outputs)
    {
        if (inputs.Length != Inputs.Count)
        {
            throw new ArgumentException($"the model has {Inputs.Count} inputs, {inputs.Length} were given", nameof(inputs));
        }

        if (outputIndices.Length != outputs.Length || outputs.Length == 0 || outputs.Length > Outputs.Count)
        {
            throw new ArgumentException($"give one output tensor per requested output index (1–{Outputs.Count})", nameof(outputs));
        }

        for (var i = 0; i < outputIndices.Length; i++)
        {
            if ((uint)outputIndices[i] >= (uint)Outputs.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(outputIndices), outputIndices[i], $"the model has {Outputs.Count} outputs");
            }
        }

        CheckShapes(inputs, outputIndices, outputs);
        var inputValues = stackalloc nint[inputs.Length];
        var outputNames = stackalloc byte*[outputs.Length];
        var outputValues = stackalloc nint[outputs.Length];
        Span<bool> inputAdded = stackalloc bool[inputs.Length];
        Span<bool> outputAdded = stackalloc bool[outputs.Length];
        var sessionAdded = false;
        try
        {
            // Every handle ORT will read is AddRef'd for the call, as the session is: a tensor or session disposed
            // before this point throws ObjectDisposedException here, one disposed during the call is released only
            // after it (a bare DangerousGetHandle of a released OrtValue crashed the process).
            _handle.DangerousAddRef(ref sessionAdded);
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i].Handle.DangerousAddRef(ref inputAdded[i]);
                inputValues[i] = inputs[i].Handle.DangerousGetHandle();
            }

            for (var i = 0; i < outputs.Length; i++)
            {
                outputs[i].Handle.DangerousAddRef(ref outputAdded[i]);
                outputValues[i] = outputs[i].Handle.DangerousGetHandle();
                outputNames[i] = _handle.OutputNames[outputIndices[i]];
            }

            OnnxRuntimeApi.Run(_handle.DangerousGetHandle(), _handle.InputNames, inputValues, inputs.Length, outputNames, outputs.Length, outputValues);
        }
        finally
        {
            for (var i = 0; i < outputs.Length; i++)
            {
                if (outputAdded[i])
                {
                    outputs[i].Handle.DangerousRelease();
                }
            }

            for (var i = 0; i < inputs.Length; i++)
            {
                if (inputAdded[i])
                {
                    inputs[i].Handle.DangerousRelease();
                }
            }

            if (sessionAdded)
            {
                _handle.DangerousRelease();
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _handle.Dispose();
    }

    private void CheckShapes(ReadOnlySpan<PinnedTensor> inputs, ReadOnlySpan<int> outputIndices, ReadOnlySpan<PinnedTensor> outputs)
    {
        var count = inputs.Length + outputs.Length;
        for (var k = 0; k < count; k++)
        {
            var (metadata, tensor, role) = k < inputs.Length
                ? (Inputs[k], inputs[k], "input")
                : (Outputs[outputIndices[k - inputs.Length]], outputs[k - inputs.Length], "output");
            ArgumentNullException.ThrowIfNull(tensor, role == "input" ? nameof(inputs) : nameof(outputs));
            if (metadata.ElementType != TensorElementType.Float32Ieee)
            {
                throw new ArgumentException($"{role} '{metadata.Name}' is {metadata.ElementType}; PinnedTensor holds float32", role == "input" ? nameof(inputs) : nameof(outputs));
            }

            var expected = metadata.Dimensions;
            var shape = tensor.Shape;
            var fits = shape.Count == expected.Count;
            for (var d = 0; fits && d < shape.Count; d++)
            {
                fits = expected[d] < 0 ? SymbolAgrees(inputs, outputIndices, outputs, k, metadata.SymbolicDimensions[d], shape[d]) : shape[d] == expected[d];
            }

            if (!fits)
            {
                throw new ArgumentException(
                    $"{role} '{metadata.Name}' has shape [{string.Join(',', shape)}]; the session expects {metadata.ShapeText}" +
                    " (fixed dimensions equal, each named dimension one value across all tensors of the run)",
                    role == "input" ? nameof(inputs) : nameof(outputs));
            }
        }
    }

    // Whether the tensors before position k give the named dimension `symbol` the same value (or do not use it).
    private bool SymbolAgrees(ReadOnlySpan<PinnedTensor> inputs, ReadOnlySpan<int> outputIndices, ReadOnlySpan<PinnedTensor> outputs, int k, string symbol, long value)
    {
        if (symbol.Length == 0)
        {
            return true;
        }

        for (var j = 0; j < k; j++)
        {
            var (metadata, tensor) = j < inputs.Length ? (Inputs[j], inputs[j]) : (Outputs[outputIndices[j - inputs.Length]], outputs[j - inputs.Length]);
            for (var d = 0; d < metadata.SymbolicDimensions.Count && d < tensor.Shape.Count; d++)
            {
                if (metadata.Dimensions[d] < 0 && metadata.SymbolicDimensions[d] == symbol)
                {
                    return tensor.Shape[d] == value;
                }
            }
        }

        return true;
    }

    private static TensorMetadata[] ReadMetadata(OrtSessionHandle handle, bool output)
    {
        var count = OnnxRuntimeApi.GetCount(handle, output);
        var result = new TensorMetadata[count];
        for (var i = 0; i < count; i++)
        {
            var name = OnnxRuntimeApi.GetName(handle, i, output);
            result[i] = OnnxRuntimeApi.GetTensorMetadata(handle, i, output, name)
                ?? new TensorMetadata(name, TensorElementType.Undefined, [], []);
        }

        return result;
    }

    private static byte** NativeNames(IReadOnlyList<TensorMetadata> tensors)
    {
        var names = (byte**)NativeMemory.AllocZeroed((nuint)Math.Max(1, tensors.Count), (nuint)sizeof(byte*));
        for (var i = 0; i < tensors.Count; i++)
        {
            names[i] = OnnxRuntimeApi.NativeUtf8(tensors[i].Name);
        }

        return names;
    }
}

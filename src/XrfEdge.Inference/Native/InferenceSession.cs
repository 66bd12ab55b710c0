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
    private readonly byte** _inputNames;
    private readonly byte** _outputNames;
    private int _disposed;

    internal InferenceSession(OnnxRuntime runtime, OrtSessionHandle handle)
    {
        _runtime = runtime;
        _handle = handle;
        Inputs = ReadMetadata(handle, output: false);
        Outputs = ReadMetadata(handle, output: true);
        _inputNames = NativeNames(Inputs);
        _outputNames = NativeNames(Outputs);
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

    /// <summary>
    /// Runs the graph: <paramref name="inputs"/> are all graph inputs in <see cref="Inputs"/> order; ORT writes output
    /// <paramref name="outputIndices"/>[i] into <paramref name="outputs"/>[i] in place (its shape must match).
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ORT rejected the run (wrong shape, …); the message is ORT's.</exception>
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

        var inputValues = stackalloc nint[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputValues[i] = inputs[i].Handle.DangerousGetHandle();
        }

        var outputNames = stackalloc byte*[outputs.Length];
        var outputValues = stackalloc nint[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            var index = outputIndices[i];
            if ((uint)index >= (uint)Outputs.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(outputIndices), index, $"the model has {Outputs.Count} outputs");
            }

            outputNames[i] = _outputNames[index];
            outputValues[i] = outputs[i].Handle.DangerousGetHandle();
        }

        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            OnnxRuntimeApi.Run(_handle.DangerousGetHandle(), _inputNames, inputValues, inputs.Length, outputNames, outputs.Length, outputValues);
        }
        finally
        {
            if (added)
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
        FreeNames(_inputNames, Inputs.Count);
        FreeNames(_outputNames, Outputs.Count);
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

    private static void FreeNames(byte** names, int count)
    {
        for (var i = 0; i < count; i++)
        {
            NativeMemory.Free(names[i]);
        }

        NativeMemory.Free(names);
    }
}

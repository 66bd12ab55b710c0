namespace XrfEdge.Inference.Native;

/// <summary>
/// A float32 tensor whose data is a managed array on the pinned object heap, wrapped by an OrtValue without a copy
/// (CreateTensorWithDataAsOrtValue). Write inputs into <see cref="Data"/> before a run; read outputs from it after.
/// Not thread-safe: one run at a time per tensor.
/// </summary>
public sealed unsafe class PinnedTensor : IDisposable
{
    private readonly float[] _data;

    internal PinnedTensor(OrtMemoryInfoHandle memoryInfo, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(shape), $"every dimension must be positive, got [{string.Join(',', shape)}]");
            }

            count = checked(count * dimension);
        }

        Shape = shape;
        // Pinned object heap: the GC never moves it, so the pointer ORT holds stays valid for the value's lifetime.
        _data = GC.AllocateArray<float>(checked((int)count), pinned: true);
        fixed (float* p = _data)
        {
            Handle = OnnxRuntimeApi.CreateFloatTensor(memoryInfo, p, _data.Length, shape);
        }
    }

    /// <summary>The tensor's shape, e.g. [256, 300].</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements, row-major (C order).</summary>
    public Span<float> Data => _data;

    internal OrtValueHandle Handle { get; }

    /// <inheritdoc/>
    public void Dispose() => Handle.Dispose();
}

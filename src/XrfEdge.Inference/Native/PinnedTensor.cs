namespace XrfEdge.Inference.Native;

/// <summary>
/// A float32 tensor whose data is a managed array on the pinned object heap, wrapped by an OrtValue without a copy
/// (CreateTensorWithDataAsOrtValue). Write inputs into <see cref="Data"/> before a run; read outputs from it after.
/// Not thread-safe: one run at a time per tensor.
/// </summary>
public sealed unsafe class PinnedTensor : IDisposable
{
    private readonly float[] _data;
    private readonly int _count;

    internal PinnedTensor(OrtMemoryInfoHandle memoryInfo, long[] shape)
        : this(memoryInfo, null, shape)
    {
    }

    /// <summary>
    /// A tensor over the first elements of <paramref name="pinnedBuffer"/> (allocated on the pinned object heap by the
    /// caller), or over a new pinned buffer of exactly the shape's size when it is null. Several tensors of different
    /// shapes may wrap one buffer over time (EncoderBatch runs n rows of a larger buffer).
    /// </summary>
    internal PinnedTensor(OrtMemoryInfoHandle memoryInfo, float[]? pinnedBuffer, long[] shape)
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

        if (pinnedBuffer is not null && count > pinnedBuffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(shape), $"shape [{string.Join(',', shape)}] needs {count} elements, the buffer has {pinnedBuffer.Length}");
        }

        Shape = shape;
        _count = checked((int)count);
        // Pinned object heap: the GC never moves it, so the pointer ORT holds stays valid for the value's lifetime.
        _data = pinnedBuffer ?? GC.AllocateArray<float>(_count, pinned: true);
        fixed (float* p = _data)
        {
            Handle = OnnxRuntimeApi.CreateFloatTensor(memoryInfo, p, _count, shape);
        }
    }

    /// <summary>The tensor's shape, e.g. [256, 300].</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements, row-major (C order).</summary>
    public Span<float> Data => _data.AsSpan(0, _count);

    internal OrtValueHandle Handle { get; }

    /// <inheritdoc/>
    public void Dispose() => Handle.Dispose();
}

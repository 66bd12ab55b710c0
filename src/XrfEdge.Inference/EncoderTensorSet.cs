using XrfEdge.Inference.Native;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference;

/// <summary>
/// The pooled part of an <see cref="EncoderBatch"/>: pinned input and output buffers for up to <see cref="Capacity"/>
/// rows, and OrtValues that view the first <see cref="Rows"/> rows of them. ORT runs only those rows (the views have
/// shape [Rows,…]), so a result does not depend on the capacity it ran in. One renter at a time.
/// </summary>
internal sealed class EncoderTensorSet
{
    private readonly InferenceSession _session;
    private readonly float[] _input;
    private readonly float[] _lines;
    private readonly float[]? _elements;

    public EncoderTensorSet(InferenceSession session, int capacity, int linesIndex, int elementsIndex)
    {
        _session = session;
        Capacity = capacity;
        // Pinned object heap: the views below hand these addresses to ORT.
        _input = GC.AllocateArray<float>(checked(capacity * ModelGrid.BinCount), pinned: true);
        _lines = GC.AllocateArray<float>(checked(capacity * LineCatalog.ExpectedLineCount), pinned: true);
        _elements = elementsIndex >= 0 ? GC.AllocateArray<float>(checked(capacity * LineCatalog.ExpectedElementCount), pinned: true) : null;
        OutputIndices = elementsIndex >= 0 ? [linesIndex, elementsIndex] : [linesIndex];
        Inputs = [];
        Outputs = [];
    }

    /// <summary>Rows the buffers hold.</summary>
    public int Capacity { get; }

    /// <summary>Rows the current views cover (0 before the first <see cref="Prepare"/>).</summary>
    public int Rows { get; private set; }

    public PinnedTensor[] Inputs { get; private set; }

    public PinnedTensor[] Outputs { get; private set; }

    public int[] OutputIndices { get; }

    /// <summary>Points the views at the first <paramref name="rows"/> rows (kept when the size is the last one used).</summary>
    public void Prepare(int rows)
    {
        if (rows == Rows)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, Capacity);
        var memoryInfo = _session.CpuMemoryInfo;
        var input = new PinnedTensor(memoryInfo, _input, [rows, ModelGrid.BinCount]);
        var lines = new PinnedTensor(memoryInfo, _lines, [rows, LineCatalog.ExpectedLineCount]);
        PinnedTensor[] outputs = _elements is null
            ? [lines]
            : [lines, new PinnedTensor(memoryInfo, _elements, [rows, LineCatalog.ExpectedElementCount])];
        Release();
        Inputs = [input];
        Outputs = outputs;
        Rows = rows;
    }

    /// <summary>Releases the OrtValues (the buffers go with the set).</summary>
    public void Release()
    {
        foreach (var tensor in Inputs)
        {
            tensor.Dispose();
        }

        foreach (var tensor in Outputs)
        {
            tensor.Dispose();
        }

        Inputs = [];
        Outputs = [];
        Rows = 0;
    }
}

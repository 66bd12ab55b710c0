using XrfEdge.Inference.Native;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference;

/// <summary>
/// Pre-allocated input and output tensors for one batch size of a <see cref="LineEncoder"/>: fill
/// <see cref="Input"/> rows, call <see cref="Run"/>, read <see cref="LineProbabilities"/> rows in place. Rented
/// from the encoder's pool and returned by <see cref="Dispose"/>; a run allocates nothing. One thread at a time.
/// </summary>
public sealed class EncoderBatch : IDisposable
{
    private readonly LineEncoder _owner;
    private readonly PinnedTensor[] _inputs;
    private readonly PinnedTensor[] _outputs;
    private readonly int[] _outputIndices;

    internal EncoderBatch(LineEncoder owner, InferenceSession session, int batchSize, int linesIndex, int elementsIndex)
    {
        _owner = owner;
        BatchSize = batchSize;
        _inputs = [session.CreateTensor(batchSize, ModelGrid.BinCount)];
        var lines = session.CreateTensor(batchSize, LineCatalog.ExpectedLineCount);
        if (elementsIndex >= 0)
        {
            _outputs = [lines, session.CreateTensor(batchSize, LineCatalog.ExpectedElementCount)];
            _outputIndices = [linesIndex, elementsIndex];
        }
        else
        {
            _outputs = [lines];
            _outputIndices = [linesIndex];
        }
    }

    /// <summary>Spectra per run.</summary>
    public int BatchSize { get; }

    /// <summary>Whether the model has an element head (<see cref="ElementProbabilities"/> is non-empty).</summary>
    public bool HasElementHead => _outputs.Length > 1;

    /// <summary>All inputs, [BatchSize, 300] row-major: raw counts per 0.1-keV bin (ModelInput values).</summary>
    public Span<float> Input => _inputs[0].Data;

    /// <summary>Row <paramref name="row"/> of the input (300 values).</summary>
    public Span<float> InputRow(int row) => _inputs[0].Data.Slice(row * ModelGrid.BinCount, ModelGrid.BinCount);

    /// <summary>Line probabilities of row <paramref name="row"/> after <see cref="Run"/> (556 values, catalogue order).</summary>
    public ReadOnlySpan<float> LineProbabilities(int row) =>
        _outputs[0].Data.Slice(row * LineCatalog.ExpectedLineCount, LineCatalog.ExpectedLineCount);

    /// <summary>Element-head probabilities of row <paramref name="row"/> (41 values), or empty without an element head.</summary>
    public ReadOnlySpan<float> ElementProbabilities(int row) => HasElementHead
        ? _outputs[1].Data.Slice(row * LineCatalog.ExpectedElementCount, LineCatalog.ExpectedElementCount)
        : [];

    /// <summary>Runs the encoder over all <see cref="BatchSize"/> rows.</summary>
    /// <exception cref="OnnxRuntimeException">ORT failed; the message is ORT's.</exception>
    public void Run() => _owner.Session.Run(_inputs, _outputIndices, _outputs);

    /// <summary>Returns the batch to its encoder's pool.</summary>
    public void Dispose() => _owner.Return(this);

    internal void Release()
    {
        foreach (var tensor in _inputs.Concat(_outputs))
        {
            tensor.Dispose();
        }
    }
}

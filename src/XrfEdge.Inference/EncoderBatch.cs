using XrfEdge.Inference.Native;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference;

/// <summary>
/// One rental of pre-allocated input and output tensors for <see cref="BatchSize"/> spectra from a
/// <see cref="LineEncoder"/>: fill <see cref="Input"/> rows, call <see cref="Run"/>, read <see cref="LineProbabilities"/>
/// rows in place. <see cref="Dispose"/> returns the tensors to the encoder's pool once; a second Dispose does nothing,
/// and any use after Dispose throws <see cref="ObjectDisposedException"/> (the tensors may already be another
/// renter's). A run allocates nothing. One thread at a time.
/// </summary>
public sealed class EncoderBatch : IDisposable
{
    private readonly LineEncoder _owner;
    private EncoderTensorSet? _set;

    internal EncoderBatch(LineEncoder owner, EncoderTensorSet set, int batchSize)
    {
        _owner = owner;
        _set = set;
        BatchSize = batchSize;
        HasElementHead = set.Outputs.Length > 1;
    }

    /// <summary>Spectra per run.</summary>
    public int BatchSize { get; }

    /// <summary>Whether the model has an element head (<see cref="ElementProbabilities"/> is non-empty).</summary>
    public bool HasElementHead { get; }

    /// <summary>All inputs, [BatchSize, 300] row-major: raw counts per 0.1-keV bin (ModelInput values).</summary>
    public Span<float> Input => Set.Inputs[0].Data;

    private EncoderTensorSet Set => _set ?? throw new ObjectDisposedException(nameof(EncoderBatch), "the batch was returned to its encoder's pool");

    /// <summary>Row <paramref name="row"/> of the input (300 values).</summary>
    public Span<float> InputRow(int row) => Input.Slice(row * ModelGrid.BinCount, ModelGrid.BinCount);

    /// <summary>Line probabilities of row <paramref name="row"/> after <see cref="Run"/> (556 values, catalogue order).</summary>
    public ReadOnlySpan<float> LineProbabilities(int row) =>
        Set.Outputs[0].Data.Slice(row * LineCatalog.ExpectedLineCount, LineCatalog.ExpectedLineCount);

    /// <summary>Element-head probabilities of row <paramref name="row"/> (41 values), or empty without an element head.</summary>
    public ReadOnlySpan<float> ElementProbabilities(int row) => HasElementHead
        ? Set.Outputs[1].Data.Slice(row * LineCatalog.ExpectedElementCount, LineCatalog.ExpectedElementCount)
        : [];

    /// <summary>Runs the encoder over all <see cref="BatchSize"/> rows.</summary>
    /// <exception cref="OnnxRuntimeException">ORT failed; the message is ORT's.</exception>
    /// <exception cref="ObjectDisposedException">The batch or its encoder has been disposed.</exception>
    public void Run()
    {
        var set = Set;
        _owner.Session.Run(set.Inputs, set.OutputIndices, set.Outputs);
    }

    /// <summary>Returns the tensors to the encoder's pool; later calls do nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _set, null) is { } set)
        {
            _owner.Return(set);
        }
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Inference.Model;
using XrfEdge.Inference.Native;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference;

/// <summary>
/// The line encoder: an ONNX model plus its card, checked against the contract (docs/inference.md) before any
/// spectrum goes through it. Thread-safe: concurrent callers each rent their own <see cref="EncoderBatch"/> and share
/// one ORT session (Run is thread-safe in ORT).
/// </summary>
public sealed class LineEncoder : IDisposable
{
    /// <summary>Largest batch whose tensors are kept for reuse (= <see cref="SpectrumIdentifier.MaxBatchSize"/>); larger ones are freed on return.</summary>
    public const int MaxPooledBatchSize = 256;

    // Pooled tensor sets by capacity 1, 2, 4, …, 256 rows (index = log2 capacity). A rental of n rows takes the smallest
    // capacity ≥ n and runs a view of its first n rows, so the pool holds at most 511 rows (≈ 1.8 MB) per concurrent
    // renter whatever sizes pass through; one set per distinct size kept ≈ 115 MB after sizes 1..256.
    private readonly ConcurrentBag<EncoderTensorSet>[] _pool =
        [.. Enumerable.Range(0, BitOperations.Log2(MaxPooledBatchSize) + 1).Select(_ => new ConcurrentBag<EncoderTensorSet>())];
    private readonly int _linesIndex;
    private readonly int _elementsIndex;
    private int _disposed;

    private LineEncoder(string modelPath, ModelCard card, InferenceSession session, ModelIdentity identity, OnnxGraphSummary graph, int linesIndex, int elementsIndex)
    {
        ModelPath = modelPath;
        Card = card;
        Session = session;
        Identity = identity;
        Graph = graph;
        _linesIndex = linesIndex;
        _elementsIndex = elementsIndex;
    }

    /// <summary>Full path of the model file.</summary>
    public string ModelPath { get; }

    /// <summary>The model's card.</summary>
    public ModelCard Card { get; }

    /// <summary>Name, version, file SHA-256 and precision, as published with every identification.</summary>
    public ModelIdentity Identity { get; }

    /// <summary>Summary of the model file's graph as written (op types, initializers).</summary>
    public OnnxGraphSummary Graph { get; }

    /// <summary>Whether the model has the optional element head.</summary>
    public bool HasElementHead => _elementsIndex >= 0;

    /// <summary>Intra-op threads the session was created with (<see cref="OnnxSessionOptions.IntraOpThreads"/>), usually 1–4.</summary>
    public int IntraOpThreads { get; private init; } = 1;

    internal InferenceSession Session { get; }

    /// <summary>The ORT session's input (the contract: "spectrum", float32, [N,300]).</summary>
    public TensorMetadata Input => Session.Inputs[0];

    /// <summary>The ORT session's outputs.</summary>
    public IReadOnlyList<TensorMetadata> Outputs => Session.Outputs;

    /// <summary>
    /// Opens <paramref name="modelPath"/> with its card, checks the whole contract and creates the ORT session.
    /// </summary>
    /// <exception cref="ModelContractException">Missing/unreadable files, card mismatch (catalogue hash, preprocessing,
    /// grid, SHA-256, thresholds), external data, a file ORT refuses, or wrong input/output names, types or shapes.</exception>
    /// <exception cref="OnnxRuntimeException">The native runtime is missing or too old.</exception>
    public static LineEncoder Open(string modelPath, LineEncoderOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        options ??= new LineEncoderOptions();
        // Only a logger the caller gave re-routes ORT's process-wide log; a default must not detach someone else's.
        var runtimeLogger = logger;
        logger ??= NullLogger.Instance;
        var fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new ModelContractException($"model file '{fullPath}' does not exist");
        }

        var cardPath = options.CardPath ?? CardPathFor(fullPath);
        if (!File.Exists(cardPath))
        {
            throw new ModelContractException($"model '{fullPath}': its card '{cardPath}' does not exist (every model ships with a *.card.json)");
        }

        var card = ModelCard.Load(cardPath);
        var bytes = File.ReadAllBytes(fullPath);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var precision = CheckCard(card, fullPath, cardPath, sha);
        OnnxGraphSummary graph;
        try
        {
            graph = OnnxModelReader.Read(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new ModelContractException($"model file '{fullPath}' is not a readable ONNX model: {e.Message}", e);
        }

        if (graph.ExternalDataTensors.Count > 0)
        {
            // Loaded from bytes, ORT would resolve external data against the working directory (reference §3.5).
            throw new ModelContractException(
                $"model file '{fullPath}' references external data ({string.Join(", ", graph.ExternalDataTensors.Take(5))}); the encoder accepts only self-contained models");
        }

        var runtime = OnnxRuntime.Initialize(options.OnnxRuntimeLibraryPath, runtimeLogger);
        InferenceSession session;
        try
        {
            session = runtime.CreateSession(bytes, options.Session);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelContractException($"model file '{fullPath}': ONNX Runtime refused it: {e.RuntimeMessage}", e);
        }

        try
        {
            var (linesIndex, elementsIndex) = CheckSession(session, card, fullPath);
            var identity = new ModelIdentity(card.Name, card.Version, sha, precision);
            Log.ModelLoaded(logger, card.Name, card.Version, precision, sha, fullPath);
            return new LineEncoder(fullPath, card, session, identity, graph, linesIndex, elementsIndex) { IntraOpThreads = Math.Max(1, options.Session.IntraOpThreads) };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The card path the encoder uses for <paramref name="modelPath"/>: "a/x.int8.onnx" → "a/x.card.json".</summary>
    public static string CardPathFor(string modelPath)
    {
        var name = Path.GetFileName(modelPath);
        foreach (var suffix in new[] { ".int8.onnx", ".fp32.onnx", ".onnx" })
        {
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[..^suffix.Length];
                break;
            }
        }

        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", name + ".card.json");
    }

    /// <summary>
    /// Builds a second session that writes ORT's optimised graph to a temporary file and summarises that graph (op types
    /// after fusion, weight DequantizeLinear nodes left). For inspection: takes about as long as opening the model.
    /// </summary>
    public OnnxGraphSummary InspectOptimizedGraph(OnnxSessionOptions? options = null)
    {
        var dump = Path.Combine(Path.GetTempPath(), $"xrfedge-optimised-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        try
        {
            var runtime = OnnxRuntime.Initialize();
            using (runtime.CreateSession(File.ReadAllBytes(ModelPath), (options ?? new OnnxSessionOptions()) with { OptimizedModelPath = dump, LogSeverityLevel = 3 }))
            {
            }

            return OnnxModelReader.Read(File.ReadAllBytes(dump));
        }
        finally
        {
            File.Delete(dump);
        }
    }

    /// <summary>Encodes one spectrum: 556 line probabilities (catalogue order) and the element head (41) when present.</summary>
    public EncoderOutput Encode(ModelInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var batch = Rent(1);
        input.Values.CopyTo(batch.InputRow(0));
        batch.Run();
        return new EncoderOutput(batch.LineProbabilities(0).ToArray(), HasElementHead ? batch.ElementProbabilities(0).ToArray() : null);
    }

    /// <summary>Encodes several spectra in one run (one output per input, same order).</summary>
    public IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ModelInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            return [];
        }

        using var batch = Rent(inputs.Count);
        for (var row = 0; row < inputs.Count; row++)
        {
            inputs[row].Values.CopyTo(batch.InputRow(row));
        }

        batch.Run();
        var result = new EncoderOutput[inputs.Count];
        for (var row = 0; row < inputs.Count; row++)
        {
            result[row] = new EncoderOutput(batch.LineProbabilities(row).ToArray(), HasElementHead ? batch.ElementProbabilities(row).ToArray() : null);
        }

        return result;
    }

    /// <summary>
    /// Rents pre-allocated tensors for <paramref name="batchSize"/> spectra; return them with Dispose (once). Tensors for
    /// up to <see cref="MaxPooledBatchSize"/> rows come from a pool of power-of-two capacities, ORT running only the
    /// first <paramref name="batchSize"/> rows.
    /// </summary>
    public EncoderBatch Rent(int batchSize)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        EncoderTensorSet? set = null;
        if (batchSize <= MaxPooledBatchSize)
        {
            var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)batchSize);
            if (!_pool[BitOperations.Log2((uint)capacity)].TryTake(out set))
            {
                set = new EncoderTensorSet(Session, capacity, _linesIndex, _elementsIndex);
            }
        }

        set ??= new EncoderTensorSet(Session, batchSize, _linesIndex, _elementsIndex);
        set.Prepare(batchSize);
        return new EncoderBatch(this, set, batchSize);
    }

    /// <summary>Releases the session and every pooled batch.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var bag in _pool)
        {
            while (bag.TryTake(out var set))
            {
                set.Release();
            }
        }

        Session.Dispose();
    }

    internal void Return(EncoderTensorSet set)
    {
        if (Volatile.Read(ref _disposed) != 0 || set.Capacity > MaxPooledBatchSize)
        {
            set.Release();
            return;
        }

        _pool[BitOperations.Log2((uint)set.Capacity)].Add(set);
    }

    private static string CheckCard(ModelCard card, string modelPath, string cardPath, string sha)
    {
        var catalog = LineCatalog.Default;
        string Refuse(string what) => throw new ModelContractException($"model '{modelPath}' (card '{cardPath}'): {what}");
        if (card.CatalogHash != catalog.Hash)
        {
            Refuse($"catalogue hash {card.CatalogHash} differs from this build's emission-line catalogue {catalog.Hash}; the model was trained for other outputs — retrain or use a matching build");
        }

        if (card.Preprocessing != ModelInput.PreprocessingId)
        {
            Refuse($"preprocessing '{card.Preprocessing}' differs from this build's '{ModelInput.PreprocessingId}'");
        }

        if (card.Input.Bins != ModelGrid.BinCount || Math.Abs(card.Input.LowerKeV - ModelGrid.LowerKeV) > 1e-9 || Math.Abs(card.Input.BinWidthKeV - ModelGrid.BinWidthKeV) > 1e-9)
        {
            Refuse(string.Create(CultureInfo.InvariantCulture,
                $"input grid {card.Input.Bins} bins from {card.Input.LowerKeV} keV by {card.Input.BinWidthKeV} keV differs from the model grid {ModelGrid.BinCount} × {ModelGrid.BinWidthKeV} keV from {ModelGrid.LowerKeV} keV"));
        }

        var precision = card.PrecisionOf(Path.GetFileName(modelPath));
        if (precision is null)
        {
            Refuse($"the card lists no file named '{Path.GetFileName(modelPath)}' (it lists {string.Join(", ", card.Files.Values.Select(f => f.Path))})");
        }

        if (card.Files[precision!].Sha256 != sha)
        {
            Refuse($"file SHA-256 {sha} differs from the card's {card.Files[precision!].Sha256} (file changed or card stale)");
        }

        if (card.LineThresholds.Count != catalog.Lines.Count)
        {
            Refuse(string.Create(CultureInfo.InvariantCulture, $"thresholds.lines has {card.LineThresholds.Count} values, the catalogue has {catalog.Lines.Count} lines"));
        }

        if (card.ElementsOutput is not null && card.ElementThresholds is { } et && et.Count != catalog.Elements.Count)
        {
            Refuse(string.Create(CultureInfo.InvariantCulture, $"thresholds.elements has {et.Count} values, the catalogue has {catalog.Elements.Count} elements"));
        }

        if (card.ElementsOutput is not null && card.ElementThresholds is null)
        {
            Refuse("outputs.elements is set but thresholds.elements is missing");
        }

        return precision!;
    }

    private static (int Lines, int Elements) CheckSession(InferenceSession session, ModelCard card, string modelPath)
    {
        string Refuse(string what) => throw new ModelContractException($"model file '{modelPath}': {what}");
        if (session.Inputs.Count != 1)
        {
            Refuse($"the graph has {session.Inputs.Count} inputs ({string.Join(", ", session.Inputs.Select(i => i.Name))}); the contract is one input '{card.Input.Name}'");
        }

        var input = session.Inputs[0];
        if (input.Name != card.Input.Name)
        {
            Refuse($"input is named '{input.Name}', the card says '{card.Input.Name}'");
        }

        CheckTensor(input, ModelGrid.BinCount, "input", Refuse);
        var linesIndex = session.OutputIndex(card.LinesOutput);
        if (linesIndex < 0)
        {
            Refuse($"no output named '{card.LinesOutput}' (outputs: {string.Join(", ", session.Outputs.Select(o => o.Name))})");
        }

        CheckTensor(session.Outputs[linesIndex], LineCatalog.ExpectedLineCount, "line output", Refuse);
        var elementsIndex = -1;
        if (card.ElementsOutput is { } elementsName)
        {
            elementsIndex = session.OutputIndex(elementsName);
            if (elementsIndex < 0)
            {
                Refuse($"the card names an element output '{elementsName}' that the graph does not have");
            }

            CheckTensor(session.Outputs[elementsIndex], LineCatalog.ExpectedElementCount, "element output", Refuse);
        }

        return (linesIndex, elementsIndex);
    }

    private static void CheckTensor(TensorMetadata tensor, int width, string role, Func<string, string> refuse)
    {
        if (tensor.ElementType != TensorElementType.Float32Ieee)
        {
            refuse($"{role} '{tensor.Name}' is {tensor.ElementType}, the contract is float32");
        }

        if (tensor.Dimensions.Count != 2 || tensor.Dimensions[1] != width || tensor.Dimensions[0] > 0)
        {
            refuse(string.Create(CultureInfo.InvariantCulture, $"{role} '{tensor.Name}' has shape {tensor.ShapeText}, the contract is [N,{width}] with a dynamic batch dimension N"));
        }
    }
}

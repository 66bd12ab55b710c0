using XrfEdge.Inference.Model;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference;

/// <summary>
/// The whole in-memory identification path, RawSpectrum → rebin (ModelInput, written straight into the encoder's
/// pinned input tensor) → encode → decode → <see cref="Identification"/>. Shared by the service, the
/// <c>identify</c>/<c>eval</c> verbs and the benchmarks. Thread-safe.
/// </summary>
public sealed class SpectrumIdentifier
{
    /// <summary>Largest batch per encoder run (larger inputs are split): 256 saturates ORT throughput (reference §3.4).</summary>
    public const int MaxBatchSize = 256;

    private readonly LineEncoder _encoder;
    private readonly CountRange? _countRange;
    private readonly double? _trainedMinFullScaleKeV;
    private readonly double? _trainedMaxStartKeV;

    // The last calibration's precomputed rebin (RebinPlan): an instrument keeps one calibration for thousands of
    // spectra, so one cached plan serves the steady state; another calibration builds (and caches) its own.
    private volatile RebinPlan? _plan;

    /// <summary>Rows per batch from which rebinning and decoding are spread over <see cref="PrePostParallelism"/> workers.</summary>
    public const int ParallelFromBatchSize = 64;

    /// <summary>Creates the path over <paramref name="encoder"/> with its card's thresholds × <paramref name="thresholdScale"/>.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="thresholdScale">Factor on every card threshold.</param>
    /// <param name="countRangePolicy">
    /// What to do with a spectrum above the card's trained count range (<see cref="CountRangePolicy.ScaleDown"/> by
    /// default); cards without a range leave every input as measured.
    /// </param>
    /// <param name="prePostParallelism">
    /// Workers that rebin and decode the rows of a batch of at least <see cref="ParallelFromBatchSize"/> spectra; 1 (the
    /// default) = everything on the calling thread; 0 = the encoder's <see cref="LineEncoder.IntraOpThreads"/>, so that
    /// the path uses the threads the session was given for the whole batch, not only for the ORT run. On the contended
    /// 2-core build VM, 2 workers beat 1 for a 2-thread session in one run (0.82 vs 0.75 of bare ORT) and lost in two
    /// (docs/PERFORMANCE.md, "Inference"): raise it only on a device whose cores the service owns, after measuring.
    /// </param>
    public SpectrumIdentifier(LineEncoder encoder, double thresholdScale = 1.0, int prePostParallelism = 1, CountRangePolicy countRangePolicy = CountRangePolicy.ScaleDown)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoder = encoder;
        _countRange = encoder.Card.CountRange;
        _trainedMinFullScaleKeV = encoder.Card.TrainedFullScale?.MinKeV;
        _trainedMaxStartKeV = encoder.Card.TrainedLowerThreshold?.MaxKeV;
        CountRangePolicy = countRangePolicy;
        Decoder = Decoder.For(encoder, thresholdScale);
        ArgumentOutOfRangeException.ThrowIfNegative(prePostParallelism);
        PrePostParallelism = prePostParallelism == 0 ? encoder.IntraOpThreads : prePostParallelism;
    }

    /// <summary>What is done with spectra above the trained count range.</summary>
    public CountRangePolicy CountRangePolicy { get; }

    /// <summary>Workers used to rebin and decode large batches.</summary>
    public int PrePostParallelism { get; }

    /// <summary>The decoder in use.</summary>
    public Decoder Decoder { get; }

    /// <summary>Identifies one spectrum.</summary>
    public Identification Identify(RawSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        var result = new Identification[1];
        Identify([spectrum], result);
        return result[0];
    }

    /// <summary>Identifies several spectra (batched by up to <see cref="MaxBatchSize"/>); results in input order.</summary>
    public Identification[] Identify(IReadOnlyList<RawSpectrum> spectra)
    {
        ArgumentNullException.ThrowIfNull(spectra);
        var results = new Identification[spectra.Count];
        Identify(spectra, results);
        return results;
    }

    /// <summary>Identifies <paramref name="spectra"/> into <paramref name="results"/> (same length).</summary>
    public void Identify(IReadOnlyList<RawSpectrum> spectra, Span<Identification> results) => Identify(spectra, results, []);

    /// <summary>
    /// Identifies <paramref name="spectra"/> into <paramref name="results"/> and, when the model has an element head and
    /// <paramref name="elementHead"/> is not empty, copies the head's 41 outputs per spectrum into it (row-major).
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A spectrum's calibration is unusable for its channel count (the message names the spectrum and what is wrong), or
    /// <paramref name="results"/> has the wrong length.
    /// </exception>
    /// <remarks>
    /// The contract (stated 2026-11-24): every spectrum passed must have a calibration that
    /// <see cref="Spectra.Calibration.EnergyCalibration.Validate"/> accepts for its channel count. One that does not
    /// fails the whole call and no spectrum of it gets a result (the slots of earlier batches of 256 are filled, the
    /// rest are not), so a caller with unchecked input checks each spectrum first (<c>Validate</c>, or
    /// <see cref="Rebinner.ThrowIfUnusable"/>) and reports the refused ones itself. Every shipped caller does, so none
    /// can reach the failure with a spectrum the limits refuse: the file readers behind <c>identify</c> and <c>eval</c>
    /// refuse such a file or line by name (FormatParsing.ResolveCalibration for .mca/.spe/.msa/.csv,
    /// <see cref="Spectra.Interchange.SpectrumJsonl"/> for .jsonl) and identify the rest; the service refuses such a
    /// calibration in the profile at start (ProfileValidator) and in stored rows before a re-analysis
    /// (ReanalysisWorker); the benchmarks build their spectra. Not made per-spectrum: the result type has no slot for an
    /// error, and a second result type for a case no shipped caller meets would be API without a user.
    /// </remarks>
    public void Identify(IReadOnlyList<RawSpectrum> spectra, Span<Identification> results, Span<float> elementHead)
    {
        ArgumentNullException.ThrowIfNull(spectra);
        if (results.Length != spectra.Count)
        {
            throw new ArgumentException($"{results.Length} result slots for {spectra.Count} spectra", nameof(results));
        }

        for (var start = 0; start < spectra.Count; start += MaxBatchSize)
        {
            var count = Math.Min(MaxBatchSize, spectra.Count - start);
            using var batch = _encoder.Rent(count);
            var workers = count >= ParallelFromBatchSize ? PrePostParallelism : 1;
            var counts = new InputCounts?[count];
            if (workers == 1)
            {
                RebinRows(spectra, start, batch, count, counts);
                batch.Run();
                DecodeRows(spectra, start, batch, count, counts, results[start..]);
            }
            else
            {
                var offset = start;
                var decoded = new Identification[count];
                ForEachWorker(workers, worker =>
                {
                    for (var row = worker * count / workers; row < (worker + 1) * count / workers; row++)
                    {
                        counts[row] = Rebin(spectra[offset + row], batch, row);
                    }
                });
                batch.Run();
                ForEachWorker(workers, worker =>
                {
                    for (var row = worker * count / workers; row < (worker + 1) * count / workers; row++)
                    {
                        decoded[row] = Decode(spectra[offset + row], batch, row, counts[row]);
                    }
                });
                decoded.CopyTo(results[start..]);
            }

            if (!elementHead.IsEmpty && batch.HasElementHead)
            {
                for (var row = 0; row < count; row++)
                {
                    var head = batch.ElementProbabilities(row);
                    head.CopyTo(elementHead.Slice((start + row) * head.Length, head.Length));
                }
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> for workers 0..<paramref name="workers"/> in parallel and throws the first worker's
    /// exception itself, as the sequential path would: <see cref="Parallel.For(int, int, Action{int})"/> wraps it in an
    /// <see cref="AggregateException"/>, which callers that catch the documented <see cref="ArgumentException"/> (the
    /// analysis stage) do not expect.
    /// </summary>
    private static void ForEachWorker(int workers, Action<int> body)
    {
        try
        {
            Parallel.For(0, workers, body);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }
    }

    /// <summary>
    /// Rebins spectra[start..start+count) into rows 0..count of <paramref name="batch"/> on the calling thread, bringing
    /// over-range rows into the trained count range by the policy; each row's count check goes to <paramref name="counts"/>.
    /// </summary>
    internal void RebinRows(IReadOnlyList<RawSpectrum> spectra, int start, EncoderBatch batch, int count, Span<InputCounts?> counts)
    {
        for (var row = 0; row < count; row++)
        {
            counts[row] = Rebin(spectra[start + row], batch, row);
        }
    }

    /// <summary>Decodes rows 0..count of <paramref name="batch"/> into <paramref name="results"/>[0..count).</summary>
    internal void DecodeRows(IReadOnlyList<RawSpectrum> spectra, int start, EncoderBatch batch, int count, ReadOnlySpan<InputCounts?> counts, Span<Identification> results)
    {
        for (var row = 0; row < count; row++)
        {
            results[row] = Decode(spectra[start + row], batch, row, counts[row]);
        }
    }

    /// <summary>
    /// Where <paramref name="total"/> falls against <paramref name="range"/> and the input factor the policy asks for.
    /// Above the range, <see cref="CountRangePolicy.ScaleDown"/> multiplies by high/total: the expected spectrum of a
    /// measurement that stopped at the range's top, which the model was trained on (count thinning is the same in the mean).
    /// </summary>
    public static InputCounts CheckCounts(double total, CountRange range, CountRangePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(range);
        var status = total > range.HighTotal ? CountRangeStatus.Above : total < range.LowTotal ? CountRangeStatus.Below : CountRangeStatus.Within;
        var scale = status == CountRangeStatus.Above && policy == CountRangePolicy.ScaleDown ? range.HighTotal / total : 1.0;
        return new InputCounts(total, range.LowTotal, range.HighTotal, status, scale);
    }

    /// <summary>
    /// The energy coverage of <paramref name="spectrum"/>: the upper edge of its last channel (capped at 30 keV) against
    /// <paramref name="trainedMinKeV"/>, the card's smallest trained full scale, and the lower edge of its first channel
    /// (floored at 0) against <paramref name="trainedMaxStartKeV"/>, the card's highest trained discriminator (null: not
    /// known, no verdict).
    /// </summary>
    public static EnergyCoverage CheckCoverage(RawSpectrum spectrum, double? trainedMinKeV, double? trainedMaxStartKeV = null)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        return EnergyCoverage.Of(
            spectrum.Calibration.LowerEdgeKeV(0),
            spectrum.Calibration.UpperEdgeKeV(spectrum.Counts.Length - 1),
            trainedMinKeV,
            trainedMaxStartKeV);
    }

    private InputCounts? Rebin(RawSpectrum spectrum, EncoderBatch batch, int row)
    {
        var input = batch.InputRow(row);
        PlanFor(spectrum).Apply(spectrum.Counts, input);
        if (_countRange is not { } range)
        {
            return null;
        }

        double total = 0;
        foreach (var value in input)
        {
            total += value;
        }

        var check = CheckCounts(total, range, CountRangePolicy);
        if (check.InputScale != 1.0)
        {
            var factor = (float)check.InputScale;
            foreach (ref var value in input)
            {
                value *= factor;
            }
        }

        return check;
    }

    private Identification Decode(RawSpectrum spectrum, EncoderBatch batch, int row, InputCounts? counts)
    {
        var result = Decoder.Decode(spectrum.Id, batch.LineProbabilities(row), batch.ElementProbabilities(row), spectrum.Excitation?.TubeVoltageKilovolts, spectrum.Excitation?.Anode);
        // Coverage is a report only: the input and the decoding above are the same whatever it says.
        return result with { Counts = counts, Coverage = CheckCoverage(spectrum, _trainedMinFullScaleKeV, _trainedMaxStartKeV) };
    }

    private RebinPlan PlanFor(RawSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        var plan = _plan;
        if (plan is null || !plan.Matches(spectrum.Calibration, spectrum.Counts.Length))
        {
            Rebinner.ThrowIfUnusable(spectrum);
            plan = RebinPlan.Create(spectrum.Calibration, spectrum.Counts.Length);
            _plan = plan;
        }

        return plan;
    }
}

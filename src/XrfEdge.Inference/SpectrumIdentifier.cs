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

    /// <summary>Creates the path over <paramref name="encoder"/> with its card's thresholds × <paramref name="thresholdScale"/>.</summary>
    public SpectrumIdentifier(LineEncoder encoder, double thresholdScale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        _encoder = encoder;
        Decoder = Decoder.For(encoder, thresholdScale);
    }

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
    public void Identify(IReadOnlyList<RawSpectrum> spectra, Span<Identification> results)
    {
        ArgumentNullException.ThrowIfNull(spectra);
        if (results.Length != spectra.Count)
        {
            throw new ArgumentException($"{results.Length} result slots for {spectra.Count} spectra", nameof(results));
        }

        Span<double> scratch = stackalloc double[ModelGrid.BinCount];
        for (var start = 0; start < spectra.Count; start += MaxBatchSize)
        {
            var count = Math.Min(MaxBatchSize, spectra.Count - start);
            using var batch = _encoder.Rent(count);
            for (var row = 0; row < count; row++)
            {
                ModelInput.Fill(spectra[start + row], batch.InputRow(row), scratch);
            }

            batch.Run();
            for (var row = 0; row < count; row++)
            {
                var spectrum = spectra[start + row];
                results[start + row] = Decoder.Decode(spectrum.Id, batch.LineProbabilities(row), batch.ElementProbabilities(row), spectrum.Excitation?.TubeVoltageKilovolts);
            }
        }
    }
}

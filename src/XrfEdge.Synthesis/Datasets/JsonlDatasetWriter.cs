using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Synthesis.Datasets;

/// <summary>
/// Writes synthetic spectra as <c>.jsonl</c> (the interchange format, <c>../shared/reference/spectra-jsonl.md</c>)
/// with <c>elements</c>, <c>lines</c>, <c>ignore_elements</c>, <c>elements_in_sample</c> and <c>excitation</c>,
/// through the one <see cref="SpectrumJsonl"/> writer. Generated in parallel batches, written in index order.
/// </summary>
public static class JsonlDatasetWriter
{
    /// <summary>Spectra per batch (bounded memory: a batch of raw spectra of up to 16384 channels).</summary>
    public const int BatchSize = 256;

    /// <summary>Generates spectra 0 … <paramref name="count"/> − 1 into the file <paramref name="path"/> (overwritten).</summary>
    public static DatasetSummary Write(
        SpectrumGenerator generator,
        long count,
        string path,
        int? threads = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        var batch = new SyntheticSpectrum[(int)Math.Min(BatchSize, count)];
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount, CancellationToken = cancellationToken };
        for (long start = 0; start < count; start += batch.Length)
        {
            var size = (int)Math.Min(batch.Length, count - start);
            var first = start;
            Parallel.For(0, size, options, i => batch[i] = generator.Generate(first + i));
            for (var i = 0; i < size; i++)
            {
                SpectrumJsonl.Write(stream, ToLabelled(batch[i]));
            }
        }

        return new DatasetSummary(count, stopwatch.Elapsed);
    }

    /// <summary>The interchange record of a synthetic spectrum.</summary>
    public static LabelledSpectrum ToLabelled(SyntheticSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        return new LabelledSpectrum(spectrum.Spectrum)
        {
            Elements = spectrum.Elements,
            Lines = spectrum.Lines,
            IgnoreElements = spectrum.IgnoreElements,
            ElementsInSample = spectrum.ElementsInSample,
        };
    }
}

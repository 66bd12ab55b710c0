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

    /// <summary>
    /// Generates spectra 0 … <paramref name="count"/> − 1 into the file <paramref name="path"/>, replaced only when all are
    /// written (through <c>PATH.partial</c>); a failed or cancelled run leaves an existing file as it was.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written, or its disk has less free space than
    /// <see cref="MinimumBytes"/> (checked before anything is written).</exception>
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

        // A lower bound, so never a wrong refusal: a mistyped --count is refused before it fills the disk.
        // Written beside the target and moved over it when complete: every line of a partial file reads as a valid
        // spectrum, so a failed or cancelled run must not leave one under the name (nor destroy the file it replaces).
        var partial = path + ".partial";
        DiskSpace.EnsureFree(string.IsNullOrEmpty(directory) ? "." : directory, path, MinimumBytes(generator.Profile, count), count, [partial]);
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
            {
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

                stream.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            DiskSpace.TryDelete(partial);
            throw;
        }

        return new DatasetSummary(count, stopwatch.Elapsed);
    }

    /// <summary>
    /// A lower bound of the file size: every record holds at least "0," for each channel of the profile's smallest MCA;
    /// <see cref="long.MaxValue"/> when that does not fit in a long.
    /// </summary>
    public static long MinimumBytes(GeneratorProfile profile, long count)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        long perSpectrum = 2L * profile.Mca.ChannelCounts.Min();
        return count > long.MaxValue / perSpectrum ? long.MaxValue : count * perSpectrum;
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

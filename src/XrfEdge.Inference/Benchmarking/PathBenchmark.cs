using System.Diagnostics;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference.Benchmarking;

/// <summary>
/// Times bare ORT (Run on pre-rebinned inputs) against the whole in-memory identification path on the same spectra
/// and batch size, in alternating rounds so that machine noise hits both alike. Used by <c>xrfedge bench</c>.
/// </summary>
public static class PathBenchmark
{
    private const int Rounds = 3;

    /// <summary>Measures one configuration for about <paramref name="duration"/> in total.</summary>
    public static PathBenchmarkResult Measure(LineEncoder encoder, int threads, int batchSize, IReadOnlyList<RawSpectrum> spectra, TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(spectra);
        var chunk = Enumerable.Range(0, batchSize).Select(i => spectra[i % spectra.Count]).ToArray();
        var identifier = new SpectrumIdentifier(encoder);
        var results = new Identification[batchSize];
        using var batch = encoder.Rent(batchSize);
        Span<double> scratch = stackalloc double[ModelGrid.BinCount];
        for (var row = 0; row < batchSize; row++)
        {
            ModelInput.Fill(chunk[row], batch.InputRow(row), scratch);
        }

        // Warm-up: tiered JIT, ORT's first-run allocations.
        for (var i = 0; i < Math.Max(3, 200 / batchSize); i++)
        {
            batch.Run();
            identifier.Identify(chunk, results);
        }

        var slice = duration / (2 * Rounds);
        var bare = new List<long>(4096);
        var path = new List<long>(4096);
        long bareSpectra = 0, pathSpectra = 0, bareTicks = 0, pathTicks = 0;
        for (var round = 0; round < Rounds; round++)
        {
            bareTicks += Loop(slice, bare, () => batch.Run());
            bareSpectra = (long)bare.Count * batchSize;
            pathTicks += Loop(slice, path, () => identifier.Identify(chunk, results));
            pathSpectra = (long)path.Count * batchSize;
        }

        return new PathBenchmarkResult(
            encoder.Identity.Precision,
            batchSize,
            threads,
            bareSpectra / Seconds(bareTicks),
            pathSpectra / Seconds(pathTicks),
            Percentile(bare, 0.50),
            Percentile(path, 0.50),
            Percentile(path, 0.99));
    }

    private static long Loop(TimeSpan slice, List<long> samples, Action action)
    {
        var end = Stopwatch.GetTimestamp() + (long)(slice.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        long now;
        do
        {
            var t0 = Stopwatch.GetTimestamp();
            action();
            now = Stopwatch.GetTimestamp();
            samples.Add(now - t0);
        }
        while (now < end);
        return now - start;
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static double Percentile(List<long> samples, double q)
    {
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        var index = Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1e6 / Stopwatch.Frequency;
    }
}

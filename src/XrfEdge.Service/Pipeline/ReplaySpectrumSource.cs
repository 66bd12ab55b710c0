using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Replays spectra from a <c>.jsonl</c> file (spectra-jsonl.md) as if an MCA measured them: paced (each takes the
/// preset, on the <see cref="TimeProvider"/>) for demos, or unpaced for throughput benchmarks. A line that cannot be
/// read (e.g. one that <c>outbox export</c> marked <c>calibration_problem</c>) is skipped with a warning naming the file,
/// line and problem, and counted (<see cref="SkippedLines"/>, one summary warning); a file with no readable spectrum stops
/// the start-up. Until 2026-11-24 the first bad line stopped the start-up, so an export holding one such line could
/// not be replayed at all. The original id is kept in metadata as <c>replay_id</c>.
/// </summary>
internal sealed class ReplaySpectrumSource(string path, bool loop, bool paced, TimeProvider time, ILogger? logger = null) : ISpectrumSource
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    private RawSpectrum[] _spectra = [];
    private long _next;

    public string Description => $"replay {path}";

    /// <summary>The spectra loaded by <see cref="OpenAsync"/>.</summary>
    public IReadOnlyList<RawSpectrum> Spectra => _spectra;

    /// <summary>Lines of the file that <see cref="OpenAsync"/> could not read and skipped.</summary>
    public int SkippedLines { get; private set; }

    /// <summary>
    /// How many skipped lines are named one by one (8090); the count (8091) covers all. A file of thousands of bad lines
    /// logged a warning for each at every start until 2026-11-24.
    /// </summary>
    public const int NamedSkippedLines = 20;

    public Task OpenAsync(CancellationToken cancellationToken)
    {
        var spectra = new List<RawSpectrum>();
        foreach (var read in SpectrumJsonl.ReadFile(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!read.IsSuccess)
            {
                if (++SkippedLines <= NamedSkippedLines)
                {
                    Log.ReplayLineSkipped(_logger, read.Error!);
                }

                continue;
            }

            var s = read.Spectrum!.Spectrum;
            var metadata = new Dictionary<string, string>(s.Metadata, StringComparer.Ordinal) { ["replay_id"] = s.Id };
            if (read.Spectrum.ElementsInSample is { } inSample)
            {
                metadata["elements_in_sample"] = string.Join(',', inSample);
            }

            spectra.Add(s with { Metadata = metadata });
        }

        if (spectra.Count == 0)
        {
            throw new InvalidDataException(SkippedLines == 0
                ? $"replay file {path}: no spectra"
                : $"replay file {path}: no readable spectrum ({SkippedLines} lines skipped, {NamedAbove()})");
        }

        if (SkippedLines > 0)
        {
            Log.ReplayLinesSkipped(_logger, path, SkippedLines, NamedAbove(), spectra.Count);
        }

        _spectra = [.. spectra];
        return Task.CompletedTask;

        string NamedAbove() => SkippedLines <= NamedSkippedLines ? "each named above" : $"the first {NamedSkippedLines} named above";
    }

    public async Task<RawSpectrum?> AcquireAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long index = _next++;
        if (!loop && index >= _spectra.Length)
        {
            return null;
        }

        if (paced)
        {
            await Task.Delay(preset, time, cancellationToken).ConfigureAwait(false);
        }

        return _spectra[index % _spectra.Length] with { Id = measurementId };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

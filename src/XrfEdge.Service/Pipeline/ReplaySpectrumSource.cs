using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Replays spectra from a <c>.jsonl</c> file (spectra-jsonl.md) as if an MCA measured them: paced (each takes the
/// preset, on the <see cref="TimeProvider"/>) for demos, or unpaced for throughput benchmarks. A line that does not
/// parse stops the start-up with the file, line and problem. The original id is kept in metadata as <c>replay_id</c>.
/// </summary>
internal sealed class ReplaySpectrumSource(string path, bool loop, bool paced, TimeProvider time) : ISpectrumSource
{
    private RawSpectrum[] _spectra = [];
    private long _next;

    public string Description => $"replay {path}";

    /// <summary>The spectra loaded by <see cref="OpenAsync"/>.</summary>
    public IReadOnlyList<RawSpectrum> Spectra => _spectra;

    public Task OpenAsync(CancellationToken cancellationToken)
    {
        var spectra = new List<RawSpectrum>();
        foreach (var read in SpectrumJsonl.ReadFile(path))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!read.IsSuccess)
            {
                throw new InvalidDataException($"replay file: {read.Error}");
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
            throw new InvalidDataException($"replay file {path}: no spectra");
        }

        _spectra = [.. spectra];
        return Task.CompletedTask;
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

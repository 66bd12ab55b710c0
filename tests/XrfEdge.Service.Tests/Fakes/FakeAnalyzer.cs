using System.Collections.Concurrent;
using XrfEdge.Service.Pipeline;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>An analyzer that "finds" fixed elements and records the batch sizes it was given.</summary>
internal sealed class FakeAnalyzer(params string[] elements) : ISpectrumAnalyzer
{
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    public Func<IReadOnlyList<RawSpectrum>, Exception?>? Fail { get; set; }

    public ModelIdentity Model { get; } = new("fake-encoder", "0.0.1", new string('0', 64), "int8");

    public IReadOnlyList<Identification> Identify(IReadOnlyList<RawSpectrum> spectra)
    {
        if (Fail?.Invoke(spectra) is { } error)
        {
            throw error;
        }

        BatchSizes.Enqueue(spectra.Count);
        return spectra.Select(s => new Identification
        {
            SpectrumId = s.Id,
            Elements = elements.Select(e => new ElementDetection(e, LineCatalog.Default.Elements.First(x => x.Symbol == e).AtomicNumber, 0.9f, [])).ToList(),
            Lines = [],
            LineProbabilities = new float[LineCatalog.Default.Lines.Count],
            Model = Model,
        }).ToList();
    }

    public void Dispose()
    {
    }
}

using BenchmarkDotNet.Attributes;
using XrfEdge.Spectra.Rebinning;
using XrfEdge.Synthesis;

namespace XrfEdge.Bench;

/// <summary>
/// Synthesis cost per spectrum: the allocation-free dataset path (simulate into a reused workspace, then rebin as
/// the npy writer does) and the public <see cref="SpectrumGenerator.Generate"/> that allocates a RawSpectrum.
/// Run: <c>dotnet run -c Release --project bench/XrfEdge.Bench -- --filter '*Synthesis*'</c>.
/// </summary>
[MemoryDiagnoser]
public class SynthesisBenchmarks
{
    private readonly double[] _scratch = new double[ModelGrid.BinCount];
    private SpectrumGenerator _generator = null!;
    private long _index;

    [Params("randomized", "handheld-sdd")]
    public string Profile { get; set; } = "randomized";

    [GlobalSetup]
    public void Setup() => _generator = new SpectrumGenerator(GeneratorProfiles.Load(Profile), 1);

    [Benchmark]
    public double SimulateAndRebin()
    {
        var ws = _generator.Rent();
        _generator.Simulate(_index++ % 4096, ws);
        var outside = Rebinner.Rebin(ws.Counts.AsSpan(0, ws.ChannelCount), ws.ReportedCalibration, _scratch);
        _generator.Return(ws);
        return outside;
    }

    [Benchmark]
    public long Generate() => _generator.Generate(_index++ % 4096).Spectrum.TotalCounts;
}

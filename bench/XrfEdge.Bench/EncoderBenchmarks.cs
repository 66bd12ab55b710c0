using BenchmarkDotNet.Attributes;
using XrfEdge.Inference;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Inference.Native;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Bench;

/// <summary>
/// Encoder and whole in-memory path per batch: bare ORT Run on pre-rebinned inputs (the ceiling) against
/// RawSpectrum → Identification (rebin + encode + decode), int8 vs fp32, batch 1/32/256, 1 and 2 intra-op threads.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InferenceBenchConfig))]
public class EncoderBenchmarks
{
    private LineEncoder _encoder = null!;
    private EncoderBatch _batch = null!;
    private SpectrumIdentifier _identifier = null!;
    private RawSpectrum[] _spectra = [];
    private Identification[] _results = [];

    [Params("int8", "fp32")]
    public string Precision { get; set; } = "int8";

    [Params(1, 32, 256)]
    public int Batch { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _encoder = LineEncoder.Open(BenchModels.Path(Precision), new LineEncoderOptions { Session = new OnnxSessionOptions { IntraOpThreads = Threads } });
        _spectra = BenchmarkSpectra.Create(Batch);
        _results = new Identification[Batch];
        _identifier = new SpectrumIdentifier(_encoder);
        _batch = _encoder.Rent(Batch);
        Span<double> scratch = stackalloc double[ModelGrid.BinCount];
        for (var row = 0; row < Batch; row++)
        {
            ModelInput.Fill(_spectra[row], _batch.InputRow(row), scratch);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Dispose();
        _encoder.Dispose();
    }

    [Benchmark(Baseline = true, Description = "bare ORT Run")]
    public void BareOrt() => _batch.Run();

    [Benchmark(Description = "identify path")]
    public Identification WholePath()
    {
        _identifier.Identify(_spectra, _results);
        return _results[0];
    }
}

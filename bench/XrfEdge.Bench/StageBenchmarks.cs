using UTF8Encoding = System.Text.UTF8Encoding;
using BenchmarkDotNet.Attributes;
using XrfEdge.Devices.Formats;
using XrfEdge.Inference;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Interchange;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Bench;

/// <summary>
/// The model-independent stages of identification per batch of 2048-channel spectra (BenchmarkSpectra): parsing
/// .jsonl text, rebinning to the model grid, and decoding 556 line probabilities into an Identification.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InferenceBenchConfig))]
public class StageBenchmarks
{
    private RawSpectrum[] _spectra = [];
    private byte[] _jsonl = [];
    private float[] _inputs = [];
    private float[][] _probabilities = [];
    private Decoder _decoder = null!;
    private RebinPlan _plan = null!;

    [Params(1, 32, 256)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _spectra = BenchmarkSpectra.Create(Batch);
        using (var buffer = new MemoryStream())
        {
            using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), leaveOpen: true))
            {
                foreach (var spectrum in _spectra)
                {
                    SpectrumJsonl.Write(writer, new LabelledSpectrum(spectrum));
                }
            }

            _jsonl = buffer.ToArray();
        }

        _inputs = new float[Batch * ModelGrid.BinCount];
        _plan = RebinPlan.Create(_spectra[0].Calibration, _spectra[0].Counts.Length);
        // Realistic decoder load: the test encoder's own outputs for these spectra, thresholds from its card.
        using var encoder = LineEncoder.Open(BenchModels.Path("int8"));
        _decoder = Decoder.For(encoder);
        _probabilities = encoder.Encode(_spectra.Select(ModelInput.From).ToArray()).Select(o => o.LineProbabilities).ToArray();
    }

    [Benchmark(Description = "parse .jsonl")]
    public int Parse()
    {
        using var stream = new MemoryStream(_jsonl, writable: false);
        var n = 0;
        foreach (var item in SpectrumFileReader.Read(stream, "bench.jsonl"))
        {
            n += item.IsSuccess ? 1 : 0;
        }

        return n;
    }

    [Benchmark(Description = "rebin")]
    public double Rebin()
    {
        Span<double> scratch = stackalloc double[ModelGrid.BinCount];
        var outside = 0.0;
        for (var i = 0; i < _spectra.Length; i++)
        {
            outside += ModelInput.Fill(_spectra[i], _inputs.AsSpan(i * ModelGrid.BinCount, ModelGrid.BinCount), scratch);
        }

        return outside;
    }

    [Benchmark(Description = "rebin (plan)")]
    public double RebinPlanned()
    {
        var outside = 0.0;
        for (var i = 0; i < _spectra.Length; i++)
        {
            outside += _plan.Apply(_spectra[i].Counts, _inputs.AsSpan(i * ModelGrid.BinCount, ModelGrid.BinCount));
        }

        return outside;
    }

    [Benchmark(Description = "decode")]
    public int Decode()
    {
        var n = 0;
        for (var i = 0; i < _probabilities.Length; i++)
        {
            n += _decoder.Decode(_spectra[i].Id, _probabilities[i], [], 40, _spectra[i].Excitation?.Anode).Lines.Count;
        }

        return n;
    }
}

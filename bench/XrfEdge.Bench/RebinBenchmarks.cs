using BenchmarkDotNet.Attributes;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Bench;

/// <summary>Rebinning a 4096-channel spectrum (the NIST Bruker layout: 0.01 keV/channel, −0.955 keV offset) to the model grid.</summary>
[MemoryDiagnoser]
public class RebinBenchmarks
{
    private readonly long[] _counts = new long[4096];
    private readonly double[] _target = new double[ModelGrid.BinCount];
    private readonly EnergyCalibration _calibration = new(-0.9553045, 0.009999);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var channel = 0; channel < _counts.Length; channel++)
        {
            _counts[channel] = random.Next(0, 5000);
        }
    }

    [Benchmark]
    public double Rebin4096() => Rebinner.Rebin(_counts, _calibration, _target);
}

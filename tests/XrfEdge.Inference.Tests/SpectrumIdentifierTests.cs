using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference.Tests;

public sealed class SpectrumIdentifierTests
{
    [Fact]
    public void Identify_Batch_EqualsEncodeThenDecodeOfEachSpectrum()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var identifier = new SpectrumIdentifier(encoder);
        var decoder = Decoder.For(encoder);
        var spectra = Enumerable.Range(0, 5).Select(seed => TestModels.SimulatedRaw(seed)).ToArray();

        var results = identifier.Identify(spectra);

        for (var i = 0; i < spectra.Length; i++)
        {
            var encoded = encoder.Encode(ModelInput.From(spectra[i]));
            var expected = decoder.Decode(spectra[i].Id, encoded.LineProbabilities, encoded.ElementProbabilities, 40, spectra[i].Excitation?.Anode);
            Assert.Equal(spectra[i].Id, results[i].SpectrumId);
            Assert.Equal(expected.LineProbabilities, results[i].LineProbabilities);
            Assert.Equal(expected.Elements.Select(e => e.Symbol), results[i].Elements.Select(e => e.Symbol));
            Assert.Equal(expected.Lines.Select(l => l.Line.Name), results[i].Lines.Select(l => l.Line.Name));
        }
    }

    [Fact]
    public void Identify_OneSpectrumWithAnUnusableCalibration_ErrorNamesThatSpectrum()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var identifier = new SpectrumIdentifier(encoder);
        // TestModels' spectra have 300 channels; dE/dc = 0.1 − 2·2e-4·c turns at channel 250, inside them.
        var bad = TestModels.SimulatedRaw(1) with { Id = "line-17", Calibration = new EnergyCalibration(0.05, 0.1, -2e-4) };
        RawSpectrum[] spectra = [TestModels.SimulatedRaw(0), bad, TestModels.SimulatedRaw(2)];

        var error = Assert.Throws<ArgumentException>(() => identifier.Identify(spectra));

        Assert.Contains("line-17", error.Message, StringComparison.Ordinal);
        Assert.Contains("not monotonic", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_ParallelPrePostWithAnUnusableCalibration_ThrowsTheSameErrorAsSequential()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        // ParallelFromBatchSize rows, so the rows are rebinned by 2 workers; the bad calibration is the one above.
        var spectra = Enumerable.Range(0, SpectrumIdentifier.ParallelFromBatchSize).Select(i => TestModels.SimulatedRaw(i % 7) with { Id = $"s{i}" }).ToArray();
        spectra[40] = spectra[40] with { Calibration = new EnergyCalibration(0.05, 0.1, -2e-4) };

        var sequential = Assert.Throws<ArgumentException>(() => new SpectrumIdentifier(encoder).Identify(spectra));
        var parallel = Assert.Throws<ArgumentException>(() => new SpectrumIdentifier(encoder, prePostParallelism: 2).Identify(spectra));

        Assert.Equal(sequential.Message, parallel.Message);
        Assert.Contains("'s40'", parallel.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Identify_LiveTimeZeroNegativeOrUnknown_SameResultAsMeasured()
    {
        // The model input is counts per bin and the count-range check reads total counts, not a rate: a live time of 0 (a
        // device that does not report it) or a negative one (damage; the readers refuse it) changes nothing on this path.
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var identifier = new SpectrumIdentifier(encoder);
        var measured = TestModels.SimulatedRaw(3) with { LiveTime = TimeSpan.FromSeconds(30) };
        RawSpectrum[] spectra = [measured, measured with { LiveTime = TimeSpan.Zero }, measured with { LiveTime = TimeSpan.FromSeconds(-1) }, measured with { LiveTime = null }];

        var results = identifier.Identify(spectra);

        foreach (var result in results.Skip(1))
        {
            Assert.Equal(results[0].LineProbabilities, result.LineProbabilities);
            Assert.Equal(results[0].Elements.Select(e => e.Symbol), result.Elements.Select(e => e.Symbol));
            Assert.Equal(results[0].Counts, result.Counts);
        }
    }

    [Fact]
    public void Identify_MoreThanOneBatch_KeepsInputOrder()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var identifier = new SpectrumIdentifier(encoder);
        // MaxBatchSize + 4 spectra: two encoder runs (256 + 4).
        var spectra = Enumerable.Range(0, SpectrumIdentifier.MaxBatchSize + 4).Select(seed => TestModels.SimulatedRaw(seed % 7) with { Id = $"s{seed}" }).ToArray();

        var results = identifier.Identify(spectra);

        Assert.Equal(spectra.Select(s => s.Id), results.Select(r => r.SpectrumId));
        // Spectra 0 and 259 share seed 0: one in the first run, one in the second; static int8 gives identical outputs.
        Assert.Equal(results[0].LineProbabilities, results[259].LineProbabilities);
    }

    [Fact]
    public void Identify_ParallelPrePost_SameResultsAsSequential()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var spectra = Benchmarking.BenchmarkSpectra.Create(SpectrumIdentifier.ParallelFromBatchSize + 6);

        var sequential = new SpectrumIdentifier(encoder).Identify(spectra);
        var parallel = new SpectrumIdentifier(encoder, prePostParallelism: 3).Identify(spectra);

        for (var i = 0; i < spectra.Length; i++)
        {
            Assert.Equal(sequential[i].SpectrumId, parallel[i].SpectrumId);
            Assert.Equal(sequential[i].LineProbabilities, parallel[i].LineProbabilities);
            Assert.Equal(sequential[i].Lines.Select(l => l.Line.Name), parallel[i].Lines.Select(l => l.Line.Name));
        }
    }

    [Fact]
    public void PathBenchmark_ShortRun_ReportsConsistentNumbers()
    {
        using var encoder = LineEncoder.Open(TestModels.Int8);
        var spectra = Benchmarking.BenchmarkSpectra.Create(8);

        var result = Benchmarking.PathBenchmark.Measure(encoder, threads: 1, batchSize: 4, spectra, TimeSpan.FromMilliseconds(60));

        Assert.Equal(("int8", 4, 1), (result.Precision, result.Batch, result.Threads));
        Assert.True(result.BareOrtSpectraPerSecond > 0 && result.PathSpectraPerSecond > 0);
        Assert.InRange(result.PathP50Microseconds, 0, result.PathP99Microseconds);
        Assert.Equal(result.PathSpectraPerSecond / result.BareOrtSpectraPerSecond, result.Ratio, 9);
    }
    [Fact]
    public void Constructor_PrePostParallelismZero_FollowsTheSessionThreads()
    {
        using var single = LineEncoder.Open(TestModels.Int8);
        using var dual = LineEncoder.Open(TestModels.Int8, new LineEncoderOptions { Session = new Native.OnnxSessionOptions { IntraOpThreads = 2 } });

        Assert.Equal(1, new SpectrumIdentifier(single, prePostParallelism: 0).PrePostParallelism);
        Assert.Equal(2, new SpectrumIdentifier(dual, prePostParallelism: 0).PrePostParallelism);
        Assert.Equal(1, new SpectrumIdentifier(dual).PrePostParallelism); // the default stays on the calling thread
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpectrumIdentifier(single, prePostParallelism: -1));
    }
}

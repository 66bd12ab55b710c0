using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Identification;
using XrfEdge.Synthesis;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>The analysis stage over the real ONNX encoder (the fixed-seed test encoder: plumbing, not chemistry).</summary>
public sealed class EncoderAnalyzerTests
{
    [Fact]
    public void Identify_BatchMixingCalibrations_EqualsOneByOneInInputOrder()
    {
        // The handheld-SDD profile draws channel count (2048/4096) and calibration per spectrum, so 24 spectra carry
        // 24 calibrations: the batch is reordered by calibration inside the analyzer and must come back in input order.
        var generator = new SpectrumGenerator(GeneratorProfiles.Load("handheld-sdd"), seed: 11);
        RawSpectrum[] spectra = [.. Enumerable.Range(0, 24).Select(i => generator.Generate(i).Spectrum)];
        Assert.True(spectra.Select(s => (s.Counts.Length, s.Calibration)).Distinct().Count() > 1);
        using var analyzer = new EncoderAnalyzer(new ModelOptions { Path = RepositoryRoot.TestModel }, new DecoderOptions(), NullLogger.Instance);

        var batch = analyzer.Identify(spectra);

        Assert.Equal(spectra.Length, batch.Count);
        for (int i = 0; i < spectra.Length; i++)
        {
            var single = analyzer.Identify([spectra[i]])[0];
            Assert.Equal(spectra[i].Id, batch[i].SpectrumId);
            Assert.Equal(single.Elements.Select(e => e.Symbol), batch[i].Elements.Select(e => e.Symbol));
            // Batch and single-row runs of the same int8 graph agree to float rounding (1e-5 is far below any threshold).
            Assert.All(single.LineProbabilities.Zip(batch[i].LineProbabilities), p => Assert.Equal(p.First, p.Second, 1e-5f));
        }
    }

    [Fact]
    public void Identify_ShortSpectraInSeveralBatches_WarnsOncePerCoverageNotPerSpectrum()
    {
        var logger = new WarningCollector();
        using var analyzer = new EncoderAnalyzer(new ModelOptions { Path = RepositoryRoot.TestModel }, new DecoderOptions(), logger);
        RawSpectrum Spectrum(int channels, int i) => new()
        {
            Id = $"s{channels}-{i}",
            Counts = [.. Enumerable.Range(0, channels).Select(c => (long)(20 + (c % 9)))],
            Calibration = new EnergyCalibration(0.05, 0.1),
        };

        for (var batch = 0; batch < 3; batch++)
        {
            var results = analyzer.Identify([.. Enumerable.Range(0, 4).Select(i => Spectrum(150, i)), Spectrum(300, 0)]);
            Assert.Equal(CoverageStatus.PartialUnrated, results[0].Coverage!.Status); // the test card states no full scale
            Assert.Equal(CoverageStatus.Full, results[4].Coverage!.Status);
        }

        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("spectrum ends at 15.0 keV", warning, StringComparison.Ordinal);

        analyzer.Identify([Spectrum(250, 0)]);
        Assert.Equal(2, logger.Warnings.Count); // another coverage (another profile's calibration) is warned about once too
    }

    [Fact]
    public void Identify_LateStartWithFullEnd_WarnedOnceAndNamed()
    {
        var logger = new WarningCollector();
        using var analyzer = new EncoderAnalyzer(new ModelOptions { Path = RepositoryRoot.TestModel }, new DecoderOptions(), logger);
        RawSpectrum Spectrum(double offsetKeV, int i) => new()
        {
            Id = $"s{offsetKeV}-{i}",
            Counts = [.. Enumerable.Range(0, 300).Select(c => (long)(20 + (c % 9)))],
            Calibration = new EnergyCalibration(offsetKeV, 0.1),
        };

        for (var batch = 0; batch < 3; batch++)
        {
            var results = analyzer.Identify([Spectrum(5.05, batch), Spectrum(0.05, batch)]);
            Assert.Equal(CoverageStatus.Full, results[0].Coverage!.Status); // its end is above 30 keV: only the start is short
            Assert.Equal(StartStatus.Unrated, results[0].Coverage!.LowerStatus); // the test card states no discriminators
        }

        var warning = Assert.Single(logger.Warnings); // the 0.05 keV start says nothing; the 5 keV start once, not per spectrum
        Assert.Contains("start unrated: spectrum starts at 5.0 keV", warning, StringComparison.Ordinal);
    }

    private sealed class WarningCollector : ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && eventId.Id == 8027) // Log.CoverageShort
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}

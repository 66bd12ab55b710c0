using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Inference.Benchmarking;

/// <summary>
/// Deterministic spectrum-like MCA histograms for timing the identification path (never for accuracy): 2048 channels
/// at 15 eV/channel from −10 eV (a typical handheld SDD setting, 0–30.7 keV), a decaying continuum, a few
/// Gaussian peaks (FWHM ~160 eV) and Poisson-like noise, a 40 kV Rh tube.
/// </summary>
public static class BenchmarkSpectra
{
    /// <summary>Channels per spectrum.</summary>
    public const int Channels = 2048;

    /// <summary>Creates <paramref name="count"/> spectra, deterministic in <paramref name="seed"/>.</summary>
    public static RawSpectrum[] Create(int count, int seed = 1)
    {
        var random = new Random(seed);
        var calibration = new EnergyCalibration(-0.010, 0.015, 0.0);
        var spectra = new RawSpectrum[count];
        for (var s = 0; s < count; s++)
        {
            var counts = new long[Channels];
            var continuum = Math.Pow(10, 0.5 + random.NextDouble());
            var peaks = Enumerable.Range(0, 2 + random.Next(6)).Select(_ => (Centre: 1.5 + (25 * random.NextDouble()), Height: Math.Pow(10, 1 + (2.5 * random.NextDouble())))).ToArray();
            for (var channel = 0; channel < Channels; channel++)
            {
                var energy = calibration.OffsetKeV + (calibration.GainKeVPerChannel * channel);
                var mean = continuum * Math.Exp(-energy / 8);
                foreach (var (centre, height) in peaks)
                {
                    mean += height * Math.Exp(-0.5 * Math.Pow((energy - centre) / 0.068, 2));
                }

                var noise = Math.Sqrt(mean) * (random.NextDouble() - 0.5) * 3.46; // uniform with the Poisson variance
                counts[channel] = (long)Math.Max(0, Math.Round(mean + noise));
            }

            spectra[s] = new RawSpectrum
            {
                Id = $"bench-{s:D4}",
                Counts = counts,
                Calibration = calibration,
                LiveTime = TimeSpan.FromSeconds(10),
                Excitation = new Excitation("Rh", 40, 20),
            };
        }

        return spectra;
    }
}

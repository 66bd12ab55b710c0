using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Simulation;

/// <summary>
/// A fixed example XRF spectrum for simulated MCAs when no generator is wired in: a brass-on-steel style
/// sample (Fe, Ni, Cu, Zn K lines, Pb L lines) excited by a Rh tube, over a smooth bremsstrahlung-like
/// continuum, with Poisson noise from a seeded generator. Line energies are from the project's catalogue
/// (Fe-KL3 6.404 keV, Cu-KL3 8.048 keV …); shapes are Gaussian with the FWHM of a typical SDD
/// (FWHM² = 0.12² + 2.355²·0.0035·E keV², i.e. about 150 eV at 5.9 keV). Not physics: a plausible test signal.
/// </summary>
public sealed class ExampleSpectrumSource
{
    private static readonly (double EnergyKeV, double CountsPerSecond)[] Peaks =
    [
        (6.404, 900), (7.058, 130), (7.478, 180), (8.265, 27), (8.048, 1500), (8.905, 210),
        (8.639, 1100), (9.572, 160), (10.551, 260), (12.614, 190), (20.216, 80), (22.724, 14),
        (2.697, 40), (2.984, 25),
    ];

    private readonly ulong _seed;

    /// <summary>Creates the source; <paramref name="seed"/> selects the noise realisation.</summary>
    public ExampleSpectrumSource(ulong seed) => _seed = seed;

    /// <summary>Energy calibration the example uses for <paramref name="channelCount"/> channels: 0–30 keV across the range, offset −0.02 keV.</summary>
    public static EnergyCalibration CalibrationFor(int channelCount) => new(-0.02, 30.0 / channelCount);

    /// <summary>Draws the spectrum for a request (deterministic in seed and measurement index).</summary>
    public RawSpectrum Generate(SimulatedSpectrumRequest request)
    {
        var calibration = CalibrationFor(request.ChannelCount);
        var random = new Random(unchecked((int)(_seed * 0x9E3779B97F4A7C15UL) ^ (int)request.MeasurementIndex));
        var seconds = request.Duration.TotalSeconds;
        var counts = new long[request.ChannelCount];
        for (var channel = 0; channel < counts.Length; channel++)
        {
            var e = calibration.EnergyKeV(channel);
            if (e < 0.8)
            {
                continue;
            }

            var width = calibration.GainKeVPerChannel;
            var continuum = 60.0 * Math.Exp(-Math.Pow((e - 14.0) / 9.0, 2)) * width / 0.03;
            var mean = continuum;
            foreach (var (peak, rate) in Peaks)
            {
                var sigma = Math.Sqrt((0.12 * 0.12) + (2.355 * 2.355 * 0.0035 * peak)) / 2.355;
                mean += rate * width / (sigma * Math.Sqrt(2 * Math.PI)) * Math.Exp(-0.5 * Math.Pow((e - peak) / sigma, 2));
            }

            counts[channel] = Poisson(random, mean * seconds);
        }

        return new RawSpectrum
        {
            Id = $"example-{request.MeasurementIndex}",
            Counts = counts,
            Calibration = calibration,
            LiveTime = request.Duration,
            RealTime = request.Duration,
        };
    }

    private static long Poisson(Random random, double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }

        if (mean > 50)
        {
            // Normal approximation: exact enough for a test signal above ~50 counts.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return Math.Max(0, (long)Math.Round(mean + (z * Math.Sqrt(mean))));
        }

        var limit = Math.Exp(-mean);
        long k = 0;
        var p = random.NextDouble();
        while (p > limit)
        {
            k++;
            p *= random.NextDouble();
        }

        return k;
    }
}

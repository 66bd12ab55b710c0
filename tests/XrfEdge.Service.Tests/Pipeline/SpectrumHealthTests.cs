using XrfEdge.Devices.Amptek;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Service.Pipeline;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Service.Tests.Pipeline;

public sealed class SpectrumHealthTests
{
    private static readonly EnergyCalibration Calibration = new(0, 0.01, 0);

    [Fact]
    public void Apply_Dp5Status_FillsTemperaturesRatesAndDeadTime()
    {
        // SimulatedDp5's figures: detector at 226.5 K (a Peltier-cooled SDD), fast count 4 % above the slow count.
        var status = new Dp5Status
        {
            FastCount = 104_000,
            SlowCount = 100_000,
            AccumulationTime = TimeSpan.FromSeconds(1.9),
            RealTime = TimeSpan.FromSeconds(2),
            DetectorTemperatureKelvin = 226.5,
            BoardTemperatureCelsius = 35,
        };
        var spectrum = Spectrum(100_000, live: 1.9, real: 2, status.ToMetadata());

        var health = SpectrumHealth.Apply(new InstrumentHealth { Uptime = TimeSpan.FromMinutes(5) }, spectrum);

        Assert.Equal(226.5 - 273.15, health.DetectorTemperatureCelsius!.Value, 6);
        Assert.Equal(35, health.BoardTemperatureCelsius);
        Assert.Equal(104_000 / 2.0, health.InputCountsPerSecond!.Value, 6);
        Assert.Equal(100_000 / 1.9, health.OutputCountsPerSecond!.Value, 6);
        Assert.Equal(100 * (1 - (100_000 / 104_000.0)), health.DeadTimePercent!.Value, 3);
        Assert.Equal(TimeSpan.FromMinutes(5), health.Uptime);
        Assert.Null(health.TubeVoltageKilovolts);
    }

    [Fact]
    public void Apply_NoStatusMetadata_RatesFromTimesAndNoTemperatures()
    {
        var spectrum = Spectrum(30_000, live: 9, real: 10, new Dictionary<string, string>());

        var health = SpectrumHealth.Apply(new InstrumentHealth(), spectrum);

        Assert.Null(health.DetectorTemperatureCelsius);
        Assert.Null(health.InputCountsPerSecond);
        Assert.Equal(30_000 / 9.0, health.OutputCountsPerSecond!.Value, 6);
        Assert.Equal(10, health.DeadTimePercent!.Value, 6); // 100·(1 − 9/10), the detection's definition
    }

    [Fact]
    public void Apply_NoSpectrumYet_LeavesHealthAsIs()
    {
        var health = new InstrumentHealth { Uptime = TimeSpan.FromSeconds(3) };

        Assert.Same(health, SpectrumHealth.Apply(health, null));
    }

    private static RawSpectrum Spectrum(long total, double live, double real, IReadOnlyDictionary<string, string> metadata) => new()
    {
        Id = "M-1",
        Counts = [total, 0, 0, 0],
        Calibration = Calibration,
        LiveTime = TimeSpan.FromSeconds(live),
        RealTime = TimeSpan.FromSeconds(real),
        Metadata = metadata,
    };
}

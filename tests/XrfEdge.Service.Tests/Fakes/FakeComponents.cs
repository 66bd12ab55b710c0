using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Devices.Gpio;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>Pipeline parts for in-process host tests: the real workers and GPIO code over fakes at the edges.</summary>
internal sealed class FakeComponents : IPipelineComponents
{
    public FakeSpectrumSource Source { get; } = new();

    public FakeAnalyzer Analyzer { get; init; } = new("Fe", "Cr");

    public MemoryResultPublisher Publisher { get; } = new();

    public FakeGpioChip Chip { get; } = new(32);

    public ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services) => Source;

    public ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services) => Analyzer;

    public IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services) => Publisher;

    public IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services) =>
        settings.Gpio.Enabled
            ? new GpioInstrumentIo(Chip.AsChip(), settings.Gpio, services.GetRequiredService<TimeProvider>(), NullLogger.Instance)
            : new NoInstrumentIo();

    /// <summary>Settings for the tests' wiring: trigger 17, interlock 27, X-ray warning 22, LEDs 5/6/13/19, buzzer 26 (the pi-dp5-uart profile's pins).</summary>
    public static ServiceSettings Settings(MeasurementMode mode = MeasurementMode.Triggered, bool gpio = true)
    {
        var settings = new ServiceSettings();
        settings.Acquisition.Source = AcquisitionSource.Replay;
        settings.Acquisition.Mode = mode;
        settings.Acquisition.PresetSeconds = 1;
        settings.Acquisition.ScanPoints = 50;
        settings.Mqtt.DeviceId = "XRF-TEST-1";
        settings.Model.MaxBatchSize = 16;
        settings.Health.StopTimeoutSeconds = 10;
        settings.Gpio.Enabled = gpio;
        settings.Gpio.Chip = "fake";
        settings.Gpio.TriggerLine = 17;
        settings.Gpio.InterlockLine = 27;
        settings.Gpio.XrayWarningLine = 22;
        settings.Gpio.ReadyLedLine = 5;
        settings.Gpio.MeasuringLedLine = 6;
        settings.Gpio.FaultLedLine = 13;
        settings.Gpio.OfflineLedLine = 19;
        settings.Gpio.BuzzerLine = 26;
        return settings;
    }

    /// <summary>Closes the interlock (active-low: closed = pin pulled low) and releases the trigger (pulled up) before the host starts.</summary>
    public void WireSafeDefaults()
    {
        Chip.SetInputLevel(27, high: false, TimeSpan.FromSeconds(1));
        Chip.SetInputLevel(17, high: true, TimeSpan.FromSeconds(1));
    }

    /// <summary>A 50 ms press of the trigger (pressed = low), longer than the 20 ms debounce.</summary>
    public void PressTrigger()
    {
        Chip.SetInputLevel(17, high: false, TimeSpan.FromMilliseconds(50));
        Chip.SetInputLevel(17, high: true, TimeSpan.FromMilliseconds(50));
    }

    public IHost BuildHost(ServiceSettings settings, Action<IServiceCollection>? configure = null) =>
        ServiceHostFactory.Build(settings, new ConfigurationBuilder().Build(), this, services =>
        {
            services.AddLogging(l => l.ClearProviders());
            configure?.Invoke(services);
        });
}

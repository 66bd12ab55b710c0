using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Gpio;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Hosting;

/// <summary>The real parts: DP5 session or replay file, ONNX encoder + decoder, SQLite outbox + MQTT, GPIO chip.</summary>
internal sealed class ProductionComponents : IPipelineComponents
{
    public ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var time = services.GetRequiredService<TimeProvider>();
        return settings.Acquisition.Source switch
        {
            AcquisitionSource.Replay => new ReplaySpectrumSource(settings.Acquisition.ReplayPath!, settings.Acquisition.ReplayLoop, settings.Acquisition.ReplayPaced, time),
            _ => throw new InvalidOperationException("Acquisition:Source = Mca: the DP5 serial session is not part of this build yet (branch acq); use Acquisition:Source = Replay"),
        };
    }

    public ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services) =>
        throw new InvalidOperationException($"Model:CardPath = '{settings.Model.CardPath}': the ONNX Runtime encoder is not part of this build yet (branch infer)");

    public IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services) =>
        throw new InvalidOperationException($"Outbox:Path = '{settings.Outbox.Path}': the SQLite outbox and MQTT publisher are not part of this build yet (branch mqtt)");

    public IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Gpio.Enabled)
        {
            return new NoInstrumentIo();
        }

        var chip = settings.Gpio.Chip.Equals("fake", StringComparison.OrdinalIgnoreCase)
            ? new FakeGpioChip(64).AsChip()
            : GpioChip.Open(settings.Gpio.Chip);
        return new GpioInstrumentIo(chip, settings.Gpio, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Service.Gpio"));
    }
}

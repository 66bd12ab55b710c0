using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Gpio;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// The real parts: DP5 session, SPI MCA or replay file, ONNX encoder + decoder, SQLite outbox + MQTT, GPIO chip.
/// Device nodes are opened through <see cref="DeviceOpeners"/> (the kernel's unless a test hands in simulated ones
/// below the same ioctl seams).
/// </summary>
/// <param name="openers">How spidev and GPIO chip nodes are opened; null = <see cref="DeviceOpeners.Linux"/>.</param>
internal sealed class ProductionComponents(DeviceOpeners? openers = null) : IPipelineComponents
{
    private readonly DeviceOpeners _openers = openers ?? DeviceOpeners.Linux;

    public ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var time = services.GetRequiredService<TimeProvider>();
        return settings.Acquisition.Source switch
        {
            AcquisitionSource.Replay => new ReplaySpectrumSource(
                settings.Acquisition.ReplayPath!,
                settings.Acquisition.ReplayLoop,
                settings.Acquisition.ReplayPaced,
                time,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Service.Replay")),
            _ when settings.Acquisition.Protocol == "dp5" => new Dp5SpectrumSource(
                AcquisitionProfiles.ToDeviceProfile("service", settings.Acquisition, settings.Calibration),
                time,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Devices.Dp5")),
            _ when settings.Acquisition.Protocol == "spi" => new SpiSpectrumSource(
                AcquisitionProfiles.ToDeviceProfile("service", settings.Acquisition, settings.Calibration),
                settings.Acquisition.DataReadyLine,
                settings.Acquisition.DataReadyChip,
                settings.Acquisition.DataReadyActiveLow,
                _openers,
                time,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Devices.Spi")),
            _ => throw new InvalidOperationException($"Acquisition:Protocol = '{settings.Acquisition.Protocol}': must be dp5 or spi"),
        };
    }

    public ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new EncoderAnalyzer(settings.Model, settings.Decoder, services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Inference"));
    }

    public IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        WarnIfPasswordInClearText(settings.Mqtt, services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Service.Mqtt"));
        var io = services.GetRequiredService<IInstrumentIo>();
        return new MqttResultPublisher(
            settings,
            services.GetRequiredService<InstrumentStatus>(),
            services.GetRequiredService<MeasurementControl>(),
            () => io.InterlockClosed,
            services.GetRequiredService<ServiceIdentity>(),
            services.GetRequiredService<ILoggerFactory>(),
            services.GetRequiredService<TimeProvider>());
    }

    /// <summary>Logs warning 8068 when a broker password is configured without TLS (no <c>Mqtt:CaFile</c>).</summary>
    internal static void WarnIfPasswordInClearText(MqttOptions mqtt, ILogger logger)
    {
        if (!string.IsNullOrEmpty(mqtt.Password) && mqtt.CaFile is null)
        {
            // Allowed (a broker on the instrument's own loopback or an isolated link), but never silent: MQTT CONNECT
            // carries the password in clear, so without TLS a network observer can take it and command the device.
            Log.MqttPasswordWithoutTls(logger, mqtt.Host, mqtt.Port);
        }
    }

    public IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Service.Gpio");
        if (settings.Acquisition.Source == AcquisitionSource.Mca && (!settings.Gpio.Enabled || settings.Gpio.InterlockLine is null))
        {
            // Allowed (a benchtop may interlock its tube in hardware only), but never silent: the service then cannot
            // refuse or abort an exposure on an open enclosure.
            Log.NoInterlockInput(logger);
        }

        if (!settings.Gpio.Enabled)
        {
            return new NoInstrumentIo();
        }

        bool fake = settings.Gpio.Chip.Equals("fake", StringComparison.OrdinalIgnoreCase);
        if (fake && settings.Gpio.InterlockLine is not null)
        {
            // The simulator profile's choice; on an instrument it would read a permanently closed interlock.
            Log.FakeGpioChip(logger);
        }

        var chip = fake ? new FakeGpioChip(64).AsChip() : _openers.OpenGpioChip(settings.Gpio.Chip);
        return new GpioInstrumentIo(chip, settings.Gpio, services.GetRequiredService<TimeProvider>(), logger);
    }
}

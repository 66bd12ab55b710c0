using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>The fakes at the edges (source, analyzer, I/O) with the service's real MQTT publisher and outbox, as ProductionComponents builds it.</summary>
internal sealed class MqttComponents(FakeComponents fakes) : IPipelineComponents
{
    public ISpectrumSource CreateSource(ServiceSettings settings, IServiceProvider services) => fakes.CreateSource(settings, services);

    /// <summary>When set, the model is refused with this reason (the service then runs without one, <see cref="ModelSlot"/>).</summary>
    public string? ModelRefusal { get; init; }

    public ISpectrumAnalyzer CreateAnalyzer(ServiceSettings settings, IServiceProvider services) =>
        ModelRefusal is { } refusal ? throw new XrfEdge.Inference.Model.ModelContractException(refusal) : fakes.CreateAnalyzer(settings, services);

    public IInstrumentIo CreateInstrumentIo(ServiceSettings settings, IServiceProvider services) => fakes.CreateInstrumentIo(settings, services);

    /// <summary>When set, wraps the real publisher (a fake that steps in on one call).</summary>
    public Func<IResultPublisher, IResultPublisher>? Wrap { get; init; }

    public IResultPublisher CreatePublisher(ServiceSettings settings, IServiceProvider services)
    {
        var publisher = CreateRealPublisher(settings, services);
        return Wrap is { } wrap ? wrap(publisher) : publisher;
    }

    private static MqttResultPublisher CreateRealPublisher(ServiceSettings settings, IServiceProvider services) => new(
        settings,
        services.GetRequiredService<InstrumentStatus>(),
        services.GetRequiredService<MeasurementControl>(),
        () => true,
        services.GetRequiredService<ServiceIdentity>(),
        services.GetRequiredService<ILoggerFactory>(),
        services.GetRequiredService<TimeProvider>());
}

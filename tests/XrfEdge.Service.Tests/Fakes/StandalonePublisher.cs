using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>The service's real MQTT publisher and outbox outside a host: fresh status, control and identity, nothing logged.</summary>
internal static class StandalonePublisher
{
    /// <param name="settings">The profile (its Mqtt and Outbox sections are used).</param>
    /// <param name="time">The clock; null = the system's.</param>
    /// <param name="tuneOutbox">Adjusts the outbox options the publisher derives from the profile.</param>
    public static MqttResultPublisher Create(ServiceSettings settings, TimeProvider? time = null, Action<XrfEdge.Messaging.Outbox.OutboxOptions>? tuneOutbox = null) => new(
        settings,
        new InstrumentStatus(),
        new MeasurementControl(),
        () => true,
        new ServiceIdentity("test", DateTimeOffset.UtcNow),
        NullLoggerFactory.Instance,
        time ?? TimeProvider.System,
        tuneOutbox);
}

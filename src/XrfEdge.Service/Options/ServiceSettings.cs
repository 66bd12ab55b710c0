namespace XrfEdge.Service.Options;

/// <summary>Every options section of one validated profile, with paths already resolved.</summary>
public sealed class ServiceSettings
{
    /// <summary>Acquisition section.</summary>
    public AcquisitionOptions Acquisition { get; init; } = new();

    /// <summary>Calibration section.</summary>
    public CalibrationOptions Calibration { get; init; } = new();

    /// <summary>Model section.</summary>
    public ModelOptions Model { get; init; } = new();

    /// <summary>Decoder section.</summary>
    public DecoderOptions Decoder { get; init; } = new();

    /// <summary>Mqtt section.</summary>
    public MqttOptions Mqtt { get; init; } = new();

    /// <summary>Outbox section.</summary>
    public OutboxOptions Outbox { get; init; } = new();

    /// <summary>Gpio section.</summary>
    public GpioOptions Gpio { get; init; } = new();

    /// <summary>Health section.</summary>
    public HealthOptions Health { get; init; } = new();
}

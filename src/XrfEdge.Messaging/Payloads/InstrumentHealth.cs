namespace XrfEdge.Messaging.Payloads;

/// <summary>Instrument figures for the <c>health</c> topic, filled in by the host; null = not measured on this hardware.</summary>
public sealed record InstrumentHealth
{
    /// <summary>Detector (SDD) temperature, °C; −50 to −20 °C when cooled.</summary>
    public double? DetectorTemperatureCelsius { get; init; }

    /// <summary>Board temperature, °C.</summary>
    public double? BoardTemperatureCelsius { get; init; }

    /// <summary>SoC temperature, °C (from /sys/class/thermal).</summary>
    public double? SocTemperatureCelsius { get; init; }

    /// <summary>X-ray tube temperature, °C.</summary>
    public double? TubeTemperatureCelsius { get; init; }

    /// <summary>Input (fast channel) count rate, counts per second.</summary>
    public double? InputCountsPerSecond { get; init; }

    /// <summary>Output (stored) count rate, counts per second.</summary>
    public double? OutputCountsPerSecond { get; init; }

    /// <summary>Dead time, percent (0–100).</summary>
    public double? DeadTimePercent { get; init; }

    /// <summary>Tube high voltage, kV.</summary>
    public double? TubeVoltageKilovolts { get; init; }

    /// <summary>Tube current, µA.</summary>
    public double? TubeCurrentMicroamperes { get; init; }

    /// <summary>Battery charge, percent.</summary>
    public double? BatteryPercent { get; init; }

    /// <summary>Free space on the outbox's file system, MiB.</summary>
    public double? DiskFreeMebibytes { get; init; }

    /// <summary>Service uptime.</summary>
    public TimeSpan? Uptime { get; init; }
}

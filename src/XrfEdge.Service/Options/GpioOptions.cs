namespace XrfEdge.Service.Options;

/// <summary>
/// The <c>Gpio</c> section. Every line is optional (null = not wired); with <see cref="Enabled"/> false no GPIO is
/// touched at all. Line numbers are offsets on <see cref="Chip"/> (on a Raspberry Pi gpiochip0, the BCM number).
/// </summary>
public sealed class GpioOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Gpio";

    /// <summary>Use GPIO at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Chip device (<c>/dev/gpiochip0</c>), or <c>fake</c> for an in-memory chip (demos, tests).</summary>
    public string Chip { get; set; } = "/dev/gpiochip0";

    /// <summary>Trigger input (a press starts a measurement in Triggered mode).</summary>
    public int? TriggerLine { get; set; }

    /// <summary>Trigger switch to ground with pull-up: true (pressed = low).</summary>
    public bool TriggerActiveLow { get; set; } = true;

    /// <summary>Trigger debounce in milliseconds (0 … 1000; 10–30 for a mechanical switch).</summary>
    public int TriggerDebounceMilliseconds { get; set; } = 20;

    /// <summary>Interlock input: active = closed (safe to emit X-rays). Open refuses and aborts measurements.</summary>
    public int? InterlockLine { get; set; }

    /// <summary>True when the closed interlock reads electrically low.</summary>
    public bool InterlockActiveLow { get; set; } = true;

    /// <summary>Interlock debounce in milliseconds (0 … 1000).</summary>
    public int InterlockDebounceMilliseconds { get; set; } = 5;

    /// <summary>X-ray-on warning lamp output, active while a measurement runs (the tube is expected to emit).</summary>
    public int? XrayWarningLine { get; set; }

    /// <summary>Ready LED output (idle, no fault).</summary>
    public int? ReadyLedLine { get; set; }

    /// <summary>Measuring LED output.</summary>
    public int? MeasuringLedLine { get; set; }

    /// <summary>Fault LED output.</summary>
    public int? FaultLedLine { get; set; }

    /// <summary>Offline LED output (no broker connection; results are held in the outbox).</summary>
    public int? OfflineLedLine { get; set; }

    /// <summary>Optional buzzer output: a short beep at the end of each measurement.</summary>
    public int? BuzzerLine { get; set; }

    /// <summary>True when the outputs sink current (LED to 3.3 V through a resistor): active = low.</summary>
    public bool OutputsActiveLow { get; set; }
}

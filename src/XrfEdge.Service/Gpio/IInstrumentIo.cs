using XrfEdge.Service.Hosting;

namespace XrfEdge.Service.Gpio;

/// <summary>The instrument's discrete I/O: trigger and interlock inputs, X-ray warning, status LEDs, buzzer.</summary>
internal interface IInstrumentIo : IDisposable
{
    /// <summary>True when the interlock is closed (safe) or not wired.</summary>
    bool InterlockClosed { get; }

    /// <summary>Starts watching the inputs: trigger presses become start requests, an opening interlock aborts.</summary>
    void Start(MeasurementControl control, InstrumentStatus status);

    /// <summary>Switches the X-ray-on warning output.</summary>
    void SetXrayWarning(bool on);

    /// <summary>Shows the state on the LEDs: ready (idle with the interlock closed), measuring, fault, offline.</summary>
    void ShowState(ServiceState state, bool connected, bool interlockClosed);

    /// <summary>A short beep (end of measurement), when a buzzer is wired.</summary>
    void Beep();
}

using XrfEdge.Service.Hosting;

namespace XrfEdge.Service.Gpio;

/// <summary>The instrument's discrete I/O: trigger and interlock inputs, X-ray warning, status LEDs, buzzer.</summary>
internal interface IInstrumentIo : IDisposable
{
    /// <summary>True when the interlock is closed (safe) or not wired.</summary>
    bool InterlockClosed { get; }

    /// <summary>
    /// Starts watching the interlock: an opening aborts the running measurement. Called before any worker starts, since
    /// an auto-started run may expose before the host has finished starting.
    /// </summary>
    void WatchInterlock(MeasurementControl control, InstrumentStatus status);

    /// <summary>Starts watching the trigger (once the service is ready): presses become start requests.</summary>
    void Start(MeasurementControl control, InstrumentStatus status);

    /// <summary>Switches the X-ray-on warning output.</summary>
    void SetXrayWarning(bool on);

    /// <summary>Shows the state on the LEDs: ready (idle with the interlock closed), measuring, fault, offline.</summary>
    void ShowState(ServiceState state, bool connected, bool interlockClosed);

    /// <summary>A short beep (end of measurement), when a buzzer is wired.</summary>
    void Beep();
}

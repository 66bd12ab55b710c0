using XrfEdge.Service.Hosting;

namespace XrfEdge.Service.Gpio;

/// <summary>Used when Gpio:Enabled is false: no lines are touched; the interlock counts as closed.</summary>
internal sealed class NoInstrumentIo : IInstrumentIo
{
    public bool InterlockClosed => true;

    public void WatchInterlock(MeasurementControl control, InstrumentStatus status)
    {
    }

    public void Start(MeasurementControl control, InstrumentStatus status)
    {
    }

    public void SetXrayWarning(bool on)
    {
    }

    public void ShowState(ServiceState state, bool connected, bool interlockClosed)
    {
    }

    public void Beep()
    {
    }

    public void Dispose()
    {
    }
}

namespace XrfEdge.Devices.Native;

/// <summary>
/// A link that can tell, without reading, that its device hung up (<c>poll(2)</c> reports POLLHUP or POLLERR: a
/// USB-serial adapter pulled, a pty's other end closed). The DP5 source checks it between measurements, when nothing
/// reads, so that the port is closed at once rather than at the next request.
/// </summary>
public interface IHangUpSignal
{
    /// <summary>True once the device hung up or the descriptor is closed; never throws.</summary>
    bool IsHungUp { get; }
}

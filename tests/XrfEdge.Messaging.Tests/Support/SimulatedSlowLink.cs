using System.Net.Sockets;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A slow uplink in front of a real broker (a poor cellular or satellite link in the field): bytes from the client reach
/// the broker at about <c>bytesPerSecond</c>, in 1 KiB steps; the broker's answers come back at once. A
/// <see cref="LoopbackProxy"/>.
/// </summary>
public sealed class SimulatedSlowLink : IDisposable
{
    private const int StepBytes = 1024;

    private readonly TimeSpan _stepDelay;
    private readonly LoopbackProxy _proxy;

    public SimulatedSlowLink(int targetPort, int bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, StepBytes);
        _stepDelay = TimeSpan.FromSeconds((double)StepBytes / bytesPerSecond);
        _proxy = new LoopbackProxy(targetPort, async (device, openBroker, stop) =>
        {
            var broker = await openBroker();
            await Task.WhenAny(UplinkAsync(device, broker, stop), broker.CopyToAsync(device, stop));
        });
    }

    public int Port => _proxy.Port;

    public void Dispose() => _proxy.Dispose();

    private async Task UplinkAsync(NetworkStream device, NetworkStream broker, CancellationToken stop)
    {
        var buffer = new byte[StepBytes];
        int read;
        while ((read = await device.ReadAsync(buffer, stop)) > 0)
        {
            await broker.WriteAsync(buffer.AsMemory(0, read), stop);
            await Task.Delay(_stepDelay, stop);
        }
    }
}

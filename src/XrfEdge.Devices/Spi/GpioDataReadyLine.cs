using System.Diagnostics;
using XrfEdge.Devices.Gpio;

namespace XrfEdge.Devices.Spi;

/// <summary>
/// The SPI MCA's optional data-ready signal on a GPIO input (docs/spi-mca-protocol.md §1: active high, raised when
/// a response is ready, lowered when its transfer starts), read through the GPIO character device with rising-edge
/// events so the host sleeps in the kernel instead of polling the bus.
/// </summary>
public sealed class GpioDataReadyLine : IDataReadyLine, IDisposable
{
    /// <summary>
    /// Longest single blocking wait for an edge, so cancellation is noticed within this time: 50 ms, well under the
    /// protocol's reply time-outs (hundreds of ms).
    /// </summary>
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Most queued edges discarded before one wait: far above the kernel's per-request event buffer (16 per line by
    /// default, gpio-cdev <c>event_buffer_size</c>), so a line that keeps toggling cannot hold the wait in the drain.
    /// </summary>
    private const int MaxStaleEdges = 256;

    private readonly GpioLine _line;

    /// <summary>Requests line <paramref name="offset"/> of <paramref name="chip"/> as a rising-edge input.</summary>
    /// <param name="chip">The GPIO chip (real or <see cref="FakeGpioChip"/>).</param>
    /// <param name="offset">Line offset on the chip, e.g. 12 on a Jetson header map; from the profile.</param>
    /// <param name="activeLow">True when the board inverts the signal.</param>
    public GpioDataReadyLine(GpioChip chip, int offset, bool activeLow = false)
    {
        ArgumentNullException.ThrowIfNull(chip);
        _line = chip.RequestLine(
            new GpioLineSettings(offset, GpioLineDirection.Input) { Edges = GpioEdge.Rising, ActiveLow = activeLow },
            "xrfedge-spi-data-ready");
    }

    /// <summary>
    /// Waits until the device signals data ready: at once when the line is already active, otherwise on its next
    /// rising edge. Returns false when <paramref name="timeout"/> passes first. Edges queued before the call are
    /// discarded first: a wait that returned on the level leaves its edge in the kernel queue, and that edge would
    /// otherwise end the next wait at once, before the next response is ready.
    /// </summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                // Drain, then read the level: an edge that arrives between the two is seen as the level.
                for (var stale = 0; stale < MaxStaleEdges && _line.TryWaitForEdge(TimeSpan.Zero, out _); stale++)
                {
                }

                if (_line.Read())
                {
                    return true;
                }

                // The kernel's edge wait runs on the monotonic clock, so the deadline does too.
                var started = Stopwatch.GetTimestamp();
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var left = timeout - Stopwatch.GetElapsedTime(started);
                    if (left <= TimeSpan.Zero)
                    {
                        return false;
                    }

                    if (_line.TryWaitForEdge(left < WaitSlice ? left : WaitSlice, out _))
                    {
                        return true;
                    }
                }
            },
            cancellationToken);

    /// <inheritdoc/>
    public void Dispose() => _line.Dispose();
}

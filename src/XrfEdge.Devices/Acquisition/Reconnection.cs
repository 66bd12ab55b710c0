namespace XrfEdge.Devices.Acquisition;

/// <summary>
/// The reconnect policy every acquisition link shares (DP5 serial, SPI): wait <see cref="AcquisitionProfile.ReconnectDelay"/>,
/// try to reopen, up to <see cref="AcquisitionProfile.ReconnectAttempts"/> times (at least once). Only I/O and permission
/// errors are retried: anything else is a bug or a cancellation and propagates at once.
/// </summary>
public static class Reconnection
{
    /// <summary>Reopens with <paramref name="open"/>; returns the attempt (1-based) that succeeded.</summary>
    /// <param name="profile">Attempts and delay.</param>
    /// <param name="time">Clock for the delay.</param>
    /// <param name="open">Reopens the link; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> on failure.</param>
    /// <param name="device">Device name for the error, e.g. "/dev/spidev0.0".</param>
    /// <param name="what">What is reopened, for the error: "the link", "the SPI MCA".</param>
    /// <param name="cancellationToken">Stops the waiting.</param>
    /// <exception cref="IOException">Every attempt failed; names the device, the attempt count and the last error.</exception>
    public static async Task<int> ReopenAsync(
        AcquisitionProfile profile,
        TimeProvider time,
        Func<CancellationToken, ValueTask> open,
        string device,
        string what,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(open);
        Exception? last = null;
        var attempts = Math.Max(1, profile.ReconnectAttempts);
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            await Task.Delay(profile.ReconnectDelay, time, cancellationToken).ConfigureAwait(false);
            try
            {
                await open(cancellationToken).ConfigureAwait(false);
                return attempt;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                last = e;
            }
        }

        throw new IOException($"{device}: could not reopen {what} after {attempts} attempts: {last?.Message}", last);
    }
}

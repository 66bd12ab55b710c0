using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Where spectra come from: an MCA session (DP5 over serial, SPI) or a replay file. One measurement at a time; the
/// acquisition worker is the only caller.
/// </summary>
internal interface ISpectrumSource : IAsyncDisposable
{
    /// <summary>Human description for logs and status (device path, file).</summary>
    string Description { get; }

    /// <summary>
    /// Opens the device and checks it answers. Called once before READY; throws with a clear message when it cannot, which
    /// fails start-up, except <see cref="SourceNotConnectedException"/>: a device that may still come (the DP5), which the
    /// source then connects per measurement.
    /// </summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Connects now if <see cref="OpenAsync"/> could not (<see cref="SourceNotConnectedException"/>) and no measurement
    /// has connected since; true when the source is connected, false when the device is still not reachable. Any other
    /// error (a DP5 that refuses the profile) is thrown. The auto-start waits on it (AcquisitionWorker). Sources that
    /// never defer their connection return true.
    /// </summary>
    Task<bool> TryConnectAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    /// <summary>
    /// Raised once the source has connected after <see cref="OpenAsync"/> threw <see cref="SourceNotConnectedException"/>:
    /// by <see cref="TryConnectAsync"/> or by the first measurement that connects, as soon as the device has answered and
    /// taken the profile (before that measurement's preset). On the caller's thread; keep handlers short. Sources that
    /// never defer their connection never raise it.
    /// </summary>
    event Action? ConnectedLate
    {
        add
        {
        }

        remove
        {
        }
    }

    /// <summary>
    /// Runs one measurement of <paramref name="preset"/> and returns its spectrum; null when the source is exhausted
    /// (a replay file without looping). Cancellation aborts the measurement: the MCA is stopped and the method throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<RawSpectrum?> AcquireAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken);
}

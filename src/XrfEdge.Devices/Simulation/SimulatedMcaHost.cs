using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Simulation;

/// <summary>
/// Serves a <see cref="SimulatedDp5"/> on a pseudo-terminal whose slave end is symlinked at a fixed path,
/// so clients open it like /dev/ttyUSB0. After a <see cref="SimulatedFault.Disconnect"/> the pty is closed
/// (clients see a hang-up, as when a USB adapter is pulled), a new one is created and the link path is
/// switched to it atomically (as udev would re-create the device node).
/// </summary>
public sealed class SimulatedMcaHost
{
    private readonly SimulatedDp5 _device;
    private readonly string _linkPath;
    private readonly TimeProvider _time;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates the host; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="device">The simulated device.</param>
    /// <param name="linkPath">Where to put the symlink (an existing symlink there is replaced; a regular file is refused).</param>
    /// <param name="timeProvider">Clock for the pause between a disconnect and the new pty.</param>
    public SimulatedMcaHost(SimulatedDp5 device, string linkPath, TimeProvider timeProvider)
    {
        _device = device;
        _linkPath = Path.GetFullPath(linkPath);
        _time = timeProvider;
    }

    /// <summary>The pty slave currently behind the link, once ready.</summary>
    public string? CurrentSlavePath { get; private set; }

    /// <summary>Times a new pty was offered after a disconnect.</summary>
    public int DisconnectCount { get; private set; }

    /// <summary>Pause between dropping a pty and offering the next one (default 200 ms, like a USB re-enumeration).</summary>
    public TimeSpan ReconnectPause { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Completes once the link path points at a live pty.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Serves until cancelled; removes the symlink on the way out.</summary>
    /// <exception cref="IOException">The link path is occupied by something that is not a symlink (a file or a directory).</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(_linkPath) && new FileInfo(_linkPath).LinkTarget is null)
        {
            throw new IOException($"{_linkPath} exists and is not a symlink; refusing to replace it");
        }

        if (Directory.Exists(_linkPath))
        {
            // rename(2) cannot put a symlink over a directory; give the link path, not its folder.
            throw new IOException($"{_linkPath} is a directory; give the path of the link to create (e.g. {Path.Combine(_linkPath, "ttyDP5")})");
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using var pty = PseudoTerminal.Create();
                Relink(pty.SlavePath);
                CurrentSlavePath = pty.SlavePath;
                _ready.TrySetResult();
                var end = await _device.ServeAsync(pty.MasterStream, cancellationToken).ConfigureAwait(false);
                if (end != SimulatedLinkEnd.Disconnected)
                {
                    break;
                }

                DisconnectCount++;
                _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                File.Delete(_linkPath);
                pty.Dispose();
                await Task.Delay(ReconnectPause, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (new FileInfo(_linkPath).LinkTarget is not null)
            {
                File.Delete(_linkPath);
            }
        }
    }

    private void Relink(string target)
    {
        var temporary = _linkPath + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, target);
        try
        {
            File.Move(temporary, _linkPath, overwrite: true);
        }
        catch
        {
            // Otherwise a dangling "PATH.tmp-PID" link to a pty that is about to close stays behind.
            File.Delete(temporary);
            throw;
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Simulation;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// <c>xrfedge acquire --protocol dp5</c> stopped by Ctrl-C (SIGINT) or SIGTERM while the DP5 is counting: the verb must
/// tell the MCA to stop (F0/03 "Disable MCA/MCS", DP5 Programmer's Guide rev A7 §4.1.22: an enabled MCA counts on to
/// its preset, or for ever with PRET=OFF) and write the measurements it completed. The device is the simulated DP5
/// behind a socat pty pair, so the verb opens a real tty through termios exactly as it opens /dev/ttyUSB0.
/// </summary>
public sealed class AcquireDp5CancellationTests : IDisposable
{
    // A preset long enough that the MCA is certainly still counting when the signal arrives (reaching it would disable
    // the MCA by itself and prove nothing), short enough that the first measurement ends quickly: 4 s (the signal reaches the MCA within a
    // few hundred ms of its enable even on a loaded 2-core machine).
    private const double PresetSeconds = 4;

    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-acquire-dp5-").FullName;
    private readonly List<Process> _started = [];

    /// <summary>Two linked ptys from socat; returns their symlinks once socat says both exist.</summary>
    private (string Host, string Device) SocatPair()
    {
        var host = Path.Combine(_dir, "ttyHost");
        var device = Path.Combine(_dir, "ttyDevice");
        var socat = Process.Start(new ProcessStartInfo("socat", $"-d -d pty,raw,echo=0,link={host} pty,raw,echo=0,link={device}") { RedirectStandardError = true })
            ?? throw new InvalidOperationException("socat did not start (scripts/install-deps.sh installs it)");
        _started.Add(socat);

        // socat logs "starting data transfer loop" after both links exist; wait for that line, not for time.
        while (socat.StandardError.ReadLine() is { } line && !line.Contains("starting data transfer loop", StringComparison.Ordinal))
        {
        }

        return (host, device);
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms; false when <paramref name="cancellationToken"/> fires first.</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }

    [Theory]
    [InlineData("INT")] // Ctrl-C
    [InlineData("TERM")] // systemd stop, a container runtime
    public async Task Process_SignalWhileDp5Counting_DisablesTheMcaAndWritesWhatWasMeasured(string signal)
    {
        var (hostPath, devicePath) = SocatPair();
        var device = new SimulatedDp5(new SimulatedDp5Options(), McaSimCommand.CreateSource("example", 1), TimeProvider.System);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var devicePort = new SerialPort(devicePath);
        devicePort.Open();
        var serving = Task.Run(() => device.ServeAsync(devicePort.BaseStream, timeout.Token));

        // The shipped profile with a 5 s reply time-out (SimulatorProfile.TolerantReplyTimeoutMilliseconds): with 0.5 s × 3
        // attempts the verb gave up on a simulator starved by the tests beside it (CI, stop 40) and the wait below saw
        // no enable. The time-out is a property of the link, not of what this test proves (the signal's disable).
        var output = Path.Combine(_dir, "out.jsonl");
        var process = XrfEdgeProcess.Start("acquire", "--protocol", "dp5", "--device", hostPath, "--config", SimulatorProfile.WithTolerantReplies(_dir), "--preset-s", PresetSeconds.ToString(CultureInfo.InvariantCulture), "--count", "3", "--out", output);
        _started.Add(process);
        var stderrTask = process.StandardError.ReadToEndAsync(timeout.Token);

        // Warnings (a retried request on a loaded machine) share stdout with the measurement lines; skip them.
        var skipped = new List<string>();
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line && !line.StartsWith($"{hostPath}#1:", StringComparison.Ordinal))
        {
            skipped.Add(line);
        }

        // The second measurement: wait until its enable has reached the device, then signal mid-acquisition. A verb that
        // exited or a simulator that stopped serving ends the wait at once, with what they said.
        if (!await EventuallyAsync(() => device.McaEnabled || process.HasExited || serving.IsCompleted, timeout.Token) || !device.McaEnabled)
        {
            var exited = process.HasExited ? $"exited {process.ExitCode}, stderr '{(await stderrTask).Trim()}'" : "still running";
            Assert.Fail($"the second measurement never enabled the MCA: verb {exited}; simulator {serving.Status} {serving.Exception?.GetBaseException().Message}; stdout before the first measurement '{string.Join(" | ", skipped)}'");
        }

        using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync(timeout.Token);
        }

        await process.WaitForExitAsync(timeout.Token);
        var stderr = await stderrTask;

        // At least one: under load the disable's ACK can miss its reply time-out and be asked again within the 2 s budget.
        Assert.True(device.DisableRequestCount >= 1, $"the MCA was never told to stop (F0/03 requests: {device.DisableRequestCount}); exit {process.ExitCode}, stderr '{stderr.Trim()}', stdout before the first measurement '{string.Join(" | ", skipped)}'");
        Assert.False(device.McaEnabled, "the MCA is still counting after the verb exited");
        Assert.True(device.AccumulationTime < TimeSpan.FromSeconds(PresetSeconds), $"accumulated {device.AccumulationTime}: the preset ended the measurement, not the signal");
        Assert.Contains("cancelled after 1 measurement(s)", stderr, StringComparison.Ordinal);
        Assert.Equal(1, process.ExitCode); // not every measurement ran (docs/acquisition.md)
        Assert.Single(SpectrumJsonl.ReadFile(output));

        await timeout.CancelAsync();
        await serving;
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }
}

using XrfEdge.Devices.Simulation;
using XrfEdge.Service.Cli;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>
/// A simulated DP5 served on a pty link by this process until stopped or disposed: the device switched on or plugged in.
/// Serving keeps a pool thread in poll(2) slices (FileDescriptorStream), and the simulator holds the pty's slave open
/// itself, so it never sees an end of its own: every one started must be stopped, or the thread is lost to the other
/// tests of the run.
/// </summary>
internal sealed class ServedDp5 : IAsyncDisposable
{
    /// <summary>How long <see cref="StartAsync"/> waits for the link: generous, for a loaded 2-core CI machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _stop = new();

    private ServedDp5(string link, SimulatedDp5 device)
    {
        Device = device;
        Host = new SimulatedMcaHost(Device, link, TimeProvider.System);
        Serving = Host.RunAsync(_stop.Token);
    }

    public SimulatedDp5 Device { get; }

    public SimulatedMcaHost Host { get; }

    public Task Serving { get; }

    /// <summary>A simulated DP5 (seed 1, the "example" spectra), not served yet: to prepare before it is switched on, or to serve again.</summary>
    public static SimulatedDp5 NewDevice() =>
        new(new SimulatedDp5Options { Seed = 1 }, McaSimCommand.CreateSource("example", 1), TimeProvider.System);

    /// <summary>
    /// Serves <paramref name="device"/> (a new one when null) on <paramref name="link"/> and waits until the link
    /// exists; a simulator that stopped before that (the link path refused, no pty) throws its error at once.
    /// </summary>
    public static async Task<ServedDp5> StartAsync(string link, SimulatedDp5? device = null)
    {
        var served = new ServedDp5(link, device ?? NewDevice());
        try
        {
            await Task.WhenAny(served.Host.Ready, served.Serving).WaitAsync(Patience);
            if (!served.Host.Ready.IsCompleted)
            {
                await served.Serving;
                throw new InvalidOperationException($"the simulated DP5 stopped serving {link} before the link was ready");
            }
        }
        catch
        {
            await served.DisposeAsync();
            throw;
        }

        return served;
    }

    /// <summary>For a failure message: whether the simulator still serves, and its error if it stopped on one.</summary>
    public string Describe() =>
        $"simulated DP5 {(Serving.IsCompleted ? "stopped serving" : "serving")} ({Serving.Status}{(Serving.Exception is { } e ? ": " + e.GetBaseException().Message : "")}), {Device.RequestCount} requests answered, MCA {(Device.McaEnabled ? "enabled" : "disabled")}";

    /// <summary>Stops serving: the pty closes and the link goes, as when the adapter is pulled.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Serving;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Serving;
        }
        finally
        {
            _stop.Dispose();
        }
    }
}

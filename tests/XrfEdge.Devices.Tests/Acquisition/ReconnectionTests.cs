using XrfEdge.Devices.Acquisition;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Tests.Acquisition;

/// <summary>The reconnect policy shared by the DP5 and SPI links.</summary>
public sealed class ReconnectionTests
{
    private static readonly AcquisitionProfile Profile = new()
    {
        Name = "reconnect-test",
        Calibration = new EnergyCalibration(0, 0.01),
        ReconnectAttempts = 4,
        ReconnectDelay = TimeSpan.FromMilliseconds(1),
    };

    [Fact]
    public async Task ReopenAsync_IoErrorsThenSuccess_ReturnsTheAttemptThatWorked()
    {
        var calls = 0;
        var attempt = await Reconnection.ReopenAsync(Profile, TimeProvider.System, _ =>
        {
            calls++;
            return calls < 3 ? throw new IOException("busy") : ValueTask.CompletedTask;
        }, "/dev/ttyX", "the link", CancellationToken.None);
        Assert.Equal(3, attempt);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task ReopenAsync_EveryAttemptFails_NamesDeviceCountAndLastError()
    {
        var calls = 0;
        var error = await Assert.ThrowsAsync<IOException>(() => Reconnection.ReopenAsync(Profile, TimeProvider.System, _ =>
        {
            calls++;
            throw new UnauthorizedAccessException($"denied {calls}");
        }, "/dev/spidev0.0", "the SPI MCA", CancellationToken.None));
        Assert.Equal(4, calls);
        Assert.Equal("/dev/spidev0.0: could not reopen the SPI MCA after 4 attempts: denied 4", error.Message);
        Assert.IsType<UnauthorizedAccessException>(error.InnerException);
    }

    [Fact]
    public async Task ReopenAsync_OtherErrors_PropagateWithoutRetry()
    {
        var calls = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => Reconnection.ReopenAsync(Profile, TimeProvider.System, _ =>
        {
            calls++;
            throw new InvalidOperationException("bug");
        }, "/dev/ttyX", "the link", CancellationToken.None));
        Assert.Equal(1, calls);
    }
}

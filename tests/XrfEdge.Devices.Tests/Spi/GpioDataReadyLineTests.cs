using XrfEdge.Devices.Gpio;
using XrfEdge.Devices.Spi;

namespace XrfEdge.Devices.Tests.Spi;

/// <summary>The data-ready line of docs/spi-mca-protocol.md §1 over the fake chip below the GPIO ioctl seam.</summary>
public sealed class GpioDataReadyLineTests
{
    // Any free offset of the 32-line fake chip; 12 has no meaning beyond that.
    private const int Offset = 12;

    [Fact]
    public async Task WaitAsync_LineAlreadyHigh_ReturnsTrueAtOnce()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var ready = new GpioDataReadyLine(chip, Offset);
        fake.SetInputLevel(Offset, high: true, TimeSpan.FromMilliseconds(1));

        Assert.True(await ready.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal("xrfedge-spi-data-ready", fake.Consumer(Offset));
    }

    [Fact]
    public async Task WaitAsync_NoEdge_ReturnsFalseAfterTimeout()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var ready = new GpioDataReadyLine(chip, Offset);

        Assert.False(await ready.WaitAsync(TimeSpan.FromMilliseconds(120), CancellationToken.None));
    }

    [Fact]
    public async Task WaitAsync_RisingEdgeWhileWaiting_ReturnsTrue()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var ready = new GpioDataReadyLine(chip, Offset);

        var waiting = ready.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        fake.SetInputLevel(Offset, high: true, TimeSpan.FromMilliseconds(1));

        Assert.True(await waiting);
    }

    [Fact]
    public async Task WaitAsync_EdgeOfAResponseAlreadyAnsweredByTheLevel_DoesNotSatisfyTheNextWait()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var ready = new GpioDataReadyLine(chip, Offset);

        // Response 1 is ready before the host waits: the line is high (the wait returns on the level) and its rising
        // edge is queued in the kernel. The response transfer lowers the line (§1); the next command is still running.
        fake.SetInputLevel(Offset, high: true, TimeSpan.FromMilliseconds(1));
        Assert.True(await ready.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        fake.SetInputLevel(Offset, high: false, TimeSpan.FromMilliseconds(1));

        // 120 ms: any wait that ends on a time-out works; the stale edge would end it at once with true.
        Assert.False(await ready.WaitAsync(TimeSpan.FromMilliseconds(120), CancellationToken.None));
    }

    [Fact]
    public async Task WaitAsync_Cancelled_Throws()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var ready = new GpioDataReadyLine(chip, Offset);
        using var cancel = new CancellationTokenSource();

        var waiting = ready.WaitAsync(TimeSpan.FromSeconds(30), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}

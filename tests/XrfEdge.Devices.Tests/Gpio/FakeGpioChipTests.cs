using XrfEdge.Devices.Gpio;

namespace XrfEdge.Devices.Tests.Gpio;

public sealed class FakeGpioChipTests
{
    // A trigger switch to ground with the internal pull-up: released = high, pressed = low, hence active-low.
    private static readonly GpioLineSettings Trigger = new(17, GpioLineDirection.Input)
    {
        ActiveLow = true,
        Bias = GpioBias.PullUp,
        Edges = GpioEdge.Both,
        DebouncePeriod = TimeSpan.FromMilliseconds(10),
    };

    [Fact]
    public void TriggerPress_HeldLongerThanDebounce_ReportsLogicalRisingEdge()
    {
        var fake = new FakeGpioChip();
        fake.SetInputLevel(17, high: true, TimeSpan.FromSeconds(1)); // released, pulled up
        using var chip = fake.AsChip();
        using var line = chip.RequestLine(Trigger, "xrfedge-trigger");

        fake.SetInputLevel(17, high: false, TimeSpan.FromMilliseconds(50)); // 50 ms press > 10 ms debounce

        Assert.True(line.TryWaitForEdge(TimeSpan.Zero, out var edge));
        Assert.Equal(GpioEdge.Rising, edge.Edge);
        Assert.Equal(17, edge.Offset);
        Assert.True(line.Read());
        Assert.Equal(10_000u, fake.DebounceMicroseconds(17));
        Assert.Equal("xrfedge-trigger", fake.Consumer(17));
    }

    [Fact]
    public void TriggerBounce_ShorterThanDebounce_ProducesNoEdge()
    {
        var fake = new FakeGpioChip();
        fake.SetInputLevel(17, high: true, TimeSpan.FromSeconds(1));
        using var chip = fake.AsChip();
        using var line = chip.RequestLine(Trigger, "t");

        fake.SetInputLevel(17, high: false, TimeSpan.FromMilliseconds(2)); // contact bounce, 2 ms < 10 ms

        Assert.False(line.TryWaitForEdge(TimeSpan.Zero, out _));
        Assert.False(line.Read());
    }

    [Fact]
    public void EdgeEvents_OnlyRequestedEdges_AreReported()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var line = chip.RequestLine(new GpioLineSettings(3, GpioLineDirection.Input) { Edges = GpioEdge.Falling }, "t");

        fake.SetInputLevel(3, high: true, TimeSpan.FromMilliseconds(1));
        fake.SetInputLevel(3, high: false, TimeSpan.FromMilliseconds(1));

        Assert.True(line.TryWaitForEdge(TimeSpan.Zero, out var edge));
        Assert.Equal(GpioEdge.Falling, edge.Edge);
        Assert.Equal(1u, edge.LineSequence);
        Assert.False(line.TryWaitForEdge(TimeSpan.Zero, out _));
    }

    [Fact]
    public void ActiveLowOutput_WriteActive_DrivesPinLow()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var led = chip.RequestLine(new GpioLineSettings(22, GpioLineDirection.Output) { ActiveLow = true }, "led");

        Assert.True(fake.IsPhysicallyHigh(22)); // inactive = high for active-low
        led.Write(true);
        Assert.False(fake.IsPhysicallyHigh(22));
    }

    [Fact]
    public void RequestLine_AlreadyRequested_ThrowsBusy()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        using var first = chip.RequestLine(new GpioLineSettings(4, GpioLineDirection.Output), "a");

        var error = Assert.Throws<IOException>(() => chip.RequestLine(new GpioLineSettings(4, GpioLineDirection.Output), "b"));
        Assert.Contains("busy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequestLine_OffsetBeyondChip_ThrowsNamingRange()
    {
        using var chip = new FakeGpioChip(lineCount: 8).AsChip();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => chip.RequestLine(new GpioLineSettings(8, GpioLineDirection.Input), "x"));
        Assert.Contains("0–7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_Line_ReleasesItForTheNextRequest()
    {
        var fake = new FakeGpioChip();
        using var chip = fake.AsChip();
        chip.RequestLine(new GpioLineSettings(6, GpioLineDirection.Input), "a").Dispose();

        Assert.False(fake.IsRequested(6));
        using var again = chip.RequestLine(new GpioLineSettings(6, GpioLineDirection.Input), "b");
        Assert.True(fake.IsRequested(6));
    }

    [Fact]
    public void Write_OnInput_Throws()
    {
        using var chip = new FakeGpioChip().AsChip();
        using var line = chip.RequestLine(new GpioLineSettings(1, GpioLineDirection.Input), "x");

        Assert.Throws<InvalidOperationException>(() => line.Write(true));
    }
}

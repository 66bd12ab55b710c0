using System.Runtime.CompilerServices;
using XrfEdge.Devices.Gpio;
using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Tests.Gpio;

public sealed class GpioV2AbiTests
{
    [Fact]
    public void StructSizes_MatchKernelHeader()
    {
        // Sizes from include/uapi/linux/gpio.h (v2): request 592, config 272, config attribute 24, attribute 16,
        // values 16, event 48 — the kernel rejects an ioctl whose encoded size differs.
        Assert.Equal(592, Unsafe.SizeOf<GpioV2LineRequest>());
        Assert.Equal(272, Unsafe.SizeOf<GpioV2LineConfig>());
        Assert.Equal(24, Unsafe.SizeOf<GpioV2LineConfigAttribute>());
        Assert.Equal(16, Unsafe.SizeOf<GpioV2LineAttribute>());
        Assert.Equal(16, Unsafe.SizeOf<GpioV2LineValues>());
        Assert.Equal(48, Unsafe.SizeOf<GpioV2LineEvent>());
    }

    [Fact]
    public void FieldOffsets_MatchKernelHeader()
    {
        // Offsets of gpio_v2_line_request: consumer after 64 u32 offsets (256), config after 32-byte consumer (288),
        // num_lines after the 272-byte config (560), fd last (588).
        var request = default(GpioV2LineRequest);
        ref byte start = ref Unsafe.As<GpioV2LineRequest, byte>(ref request);
        Assert.Equal(288, (int)Unsafe.ByteOffset(ref start, ref Unsafe.As<GpioV2LineConfig, byte>(ref request.Config)));
        Assert.Equal(560, (int)Unsafe.ByteOffset(ref start, ref Unsafe.As<uint, byte>(ref request.LineCount)));
        Assert.Equal(588, (int)Unsafe.ByteOffset(ref start, ref Unsafe.As<int, byte>(ref request.Fd)));
    }

    [Fact]
    public void IoctlNumbers_MatchIowrEncoding()
    {
        // _IOWR(0xB4, nr, type) with the sizes above; 0xC250B407 is the value libgpiod v2 issues for GPIO_V2_GET_LINE_IOCTL.
        Assert.Equal(0xC250B407u, GpioV2Abi.GetLine);
        Assert.Equal(0xC110B40Du, GpioV2Abi.SetConfig);
        Assert.Equal(0xC010B40Eu, GpioV2Abi.GetValues);
        Assert.Equal(0xC010B40Fu, GpioV2Abi.SetValues);
        Assert.Equal(0x8044B401u, GpioV2Abi.GetChipInfo);
    }

    [Fact]
    public unsafe void Encode_DebouncedActiveLowTrigger_SetsFlagsAndDebounceAttribute()
    {
        // 10 ms is the trigger debounce of the shipped profiles; the uAPI takes microseconds.
        var settings = new GpioLineSettings(17, GpioLineDirection.Input)
        {
            ActiveLow = true,
            Bias = GpioBias.PullUp,
            Edges = GpioEdge.Both,
            DebouncePeriod = TimeSpan.FromMilliseconds(10),
        };

        var request = GpioRequestEncoder.Encode(settings, "xrfedge-trigger");

        Assert.Equal(17u, request.Offsets[0]);
        Assert.Equal(1u, request.LineCount);
        Assert.Equal(
            GpioV2LineFlags.Input | GpioV2LineFlags.ActiveLow | GpioV2LineFlags.BiasPullUp | GpioV2LineFlags.EdgeRising | GpioV2LineFlags.EdgeFalling,
            request.Config.Flags);
        Assert.Equal(1u, request.Config.AttributeCount);
        Assert.Equal(GpioV2AttributeId.Debounce, request.Config.Attributes[0].Attribute.Id);
        Assert.Equal(10_000u, request.Config.Attributes[0].Attribute.DebouncePeriodMicroseconds);
        Assert.Equal(1ul, request.Config.Attributes[0].Mask);
        Assert.Equal(GpioRequestEncoder.EventBufferSize, request.EventBufferSize);
        Assert.Equal((byte)'x', request.Consumer[0]);
        Assert.Equal(0, request.Consumer[15]); // "xrfedge-trigger" is 15 characters, NUL-terminated
    }

    [Fact]
    public void Encode_OutputHigh_SetsOutputValuesAttribute()
    {
        var request = GpioRequestEncoder.Encode(new GpioLineSettings(5, GpioLineDirection.Output) { InitialValue = true }, "led");

        Assert.Equal(GpioV2LineFlags.Output, request.Config.Flags);
        Assert.Equal(GpioV2AttributeId.OutputValues, request.Config.Attributes[0].Attribute.Id);
        Assert.Equal(1ul, request.Config.Attributes[0].Attribute.Value);
        Assert.True(GpioRequestEncoder.InitialOutput(request));
    }

    [Fact]
    public void Open_DeviceThatIsNotAChip_ThrowsWithPathAndErrnoText()
    {
        // /dev/null exists on every Linux machine and answers any GPIO ioctl with ENOTTY.
        var error = Assert.Throws<IOException>(() => GpioChip.Open("/dev/null"));
        Assert.Contains("/dev/null", error.Message, StringComparison.Ordinal);
        Assert.Contains("errno", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MissingDevice_ThrowsNoSuchFile()
    {
        var error = Assert.Throws<IOException>(() => GpioChip.Open("/dev/gpiochip-does-not-exist"));
        Assert.Contains("gpiochip-does-not-exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("errno 2", error.Message, StringComparison.Ordinal); // ENOENT
    }
}

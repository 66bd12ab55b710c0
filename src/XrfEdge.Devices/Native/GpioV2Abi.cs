using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XrfEdge.Devices.Native;

// Linux GPIO character-device uAPI v2, include/uapi/linux/gpio.h (kernel ≥ 5.10). Layouts are fixed by the
// kernel ABI (all fields naturally aligned, __aligned_u64 on 8): sizes are checked by tests against the values
// the _IOWR() numbers encode (gpio_v2_line_request = 592 bytes → GPIO_V2_GET_LINE_IOCTL = 0xC250B407).
//
//  gpio_v2_line_request (592)            gpio_v2_line_config (272)               gpio_v2_line_event (48)
//  0    u32 offsets[64]                  0   u64 flags                           0  u64 timestamp_ns
//  256  char consumer[32]                8   u32 num_attrs                       8  u32 id (1 rising, 2 falling)
//  288  gpio_v2_line_config config       12  u32 padding[5]                      12 u32 offset
//  560  u32 num_lines                    32  config_attribute attrs[10] (24 each) 16 u32 seqno
//  564  u32 event_buffer_size                 attr{u32 id; u32 pad; u64 value}   20 u32 line_seqno
//  568  u32 padding[5]                        u64 mask                           24 u32 padding[6]
//  588  s32 fd (out)

/// <summary>GPIO_V2_LINE_FLAG_* bits (gpio.h, enum gpio_v2_line_flag).</summary>
[Flags]
internal enum GpioV2LineFlags : ulong
{
    None = 0,
    Used = 1UL << 0,
    ActiveLow = 1UL << 1,
    Input = 1UL << 2,
    Output = 1UL << 3,
    EdgeRising = 1UL << 4,
    EdgeFalling = 1UL << 5,
    OpenDrain = 1UL << 6,
    OpenSource = 1UL << 7,
    BiasPullUp = 1UL << 8,
    BiasPullDown = 1UL << 9,
    BiasDisabled = 1UL << 10,
    EventClockRealtime = 1UL << 11,
}

/// <summary>gpio_v2_line_attr_id.</summary>
internal enum GpioV2AttributeId : uint
{
    Flags = 1,
    OutputValues = 2,
    Debounce = 3,
}

/// <summary>struct gpio_v2_line_attribute (16 bytes): the union holds flags, values or debounce_period_us.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct GpioV2LineAttribute
{
    [FieldOffset(0)] public GpioV2AttributeId Id;
    [FieldOffset(8)] public ulong Value;
    [FieldOffset(8)] public uint DebouncePeriodMicroseconds;
}

/// <summary>struct gpio_v2_line_config_attribute (24 bytes): an attribute and the lines (bit = index in the request) it applies to.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GpioV2LineConfigAttribute
{
    public GpioV2LineAttribute Attribute;
    public ulong Mask;
}

/// <summary>attrs[GPIO_V2_LINE_NUM_ATTRS_MAX = 10].</summary>
[InlineArray(GpioV2Abi.MaxAttributes)]
internal struct GpioV2ConfigAttributes
{
    private GpioV2LineConfigAttribute _element0;
}

/// <summary>struct gpio_v2_line_config (272 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct GpioV2LineConfig
{
    public GpioV2LineFlags Flags;
    public uint AttributeCount;
    public fixed uint Padding[5];
    public GpioV2ConfigAttributes Attributes;
}

/// <summary>struct gpio_v2_line_request (592 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct GpioV2LineRequest
{
    public fixed uint Offsets[GpioV2Abi.MaxLines];
    public fixed byte Consumer[GpioV2Abi.MaxNameBytes];
    public GpioV2LineConfig Config;
    public uint LineCount;
    public uint EventBufferSize;
    public fixed uint Padding[5];
    public int Fd;
}

/// <summary>struct gpio_v2_line_values (16 bytes): bit i = line i of the request.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GpioV2LineValues
{
    public ulong Bits;
    public ulong Mask;
}

/// <summary>struct gpio_v2_line_event (48 bytes), read() from the request fd.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct GpioV2LineEvent
{
    public ulong TimestampNanoseconds;
    public uint Id;
    public uint Offset;
    public uint Sequence;
    public uint LineSequence;
    public fixed uint Padding[6];
}

/// <summary>Constants and ioctl request numbers of the v2 uAPI.</summary>
internal static class GpioV2Abi
{
    public const int MaxLines = 64;          // GPIO_V2_LINES_MAX
    public const int MaxAttributes = 10;     // GPIO_V2_LINE_NUM_ATTRS_MAX
    public const int MaxNameBytes = 32;      // GPIO_MAX_NAME_SIZE
    public const uint EventRisingEdge = 1;   // GPIO_V2_LINE_EVENT_RISING_EDGE
    public const uint EventFallingEdge = 2;  // GPIO_V2_LINE_EVENT_FALLING_EDGE

    // _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 | nr (asm-generic/ioctl.h, used by x86-64 and arm64);
    // _IOR dir = 2, _IOWR dir = 3; the GPIO ioctl type is 0xB4.
    public static readonly uint GetChipInfo = Ioc(2, 0x01, 68);                                               // gpiochip_info: name[32], label[32], u32 lines
    public static readonly uint GetLine = Ioc(3, 0x07, (uint)Unsafe.SizeOf<GpioV2LineRequest>());            // 0xC250B407
    public static readonly uint SetConfig = Ioc(3, 0x0D, (uint)Unsafe.SizeOf<GpioV2LineConfig>());          // 0xC110B40D
    public static readonly uint GetValues = Ioc(3, 0x0E, (uint)Unsafe.SizeOf<GpioV2LineValues>());          // 0xC010B40E
    public static readonly uint SetValues = Ioc(3, 0x0F, (uint)Unsafe.SizeOf<GpioV2LineValues>());          // 0xC010B40F

    private static uint Ioc(uint direction, uint number, uint size) => (direction << 30) | (size << 16) | (0xB4u << 8) | number;
}

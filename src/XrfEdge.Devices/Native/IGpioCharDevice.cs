namespace XrfEdge.Devices.Native;

/// <summary>
/// The ioctl-shaped seam below <see cref="Gpio.GpioChip"/>: one method per GPIO uAPI v2 call the chip makes, taking the
/// kernel's own structs. <see cref="LinuxGpioCharDevice"/> forwards them to <c>/dev/gpiochipN</c>;
/// <see cref="Gpio.FakeGpioChip"/> interprets them in memory, so the struct packing is exercised by the tests too.
/// </summary>
internal interface IGpioCharDevice : IDisposable
{
    /// <summary>Chip name from GPIO_GET_CHIPINFO_IOCTL (for example <c>gpiochip0</c>).</summary>
    string Name { get; }

    /// <summary>Number of lines on the chip.</summary>
    int LineCount { get; }

    /// <summary>GPIO_V2_GET_LINE_IOCTL: requests the lines; on return <c>request.Fd</c> is the line-request handle.</summary>
    void GetLine(ref GpioV2LineRequest request);

    /// <summary>GPIO_V2_LINE_GET_VALUES_IOCTL on a line-request handle (logical values: active-low already applied).</summary>
    void GetValues(int requestFd, ref GpioV2LineValues values);

    /// <summary>GPIO_V2_LINE_SET_VALUES_IOCTL on a line-request handle.</summary>
    void SetValues(int requestFd, ref GpioV2LineValues values);

    /// <summary>poll() then read() one gpio_v2_line_event; false when none arrived within <paramref name="timeout"/>.</summary>
    bool TryReadEvent(int requestFd, TimeSpan timeout, out GpioV2LineEvent lineEvent);

    /// <summary>close() of a line-request handle: releases the lines.</summary>
    void CloseLine(int requestFd);
}

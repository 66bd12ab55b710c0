namespace XrfEdge.Devices.Gpio;

/// <summary>One debounced edge reported by the kernel for a line.</summary>
/// <param name="Offset">Line offset on the chip.</param>
/// <param name="Edge"><see cref="GpioEdge.Rising"/> or <see cref="GpioEdge.Falling"/> (logical).</param>
/// <param name="TimestampNanoseconds">CLOCK_MONOTONIC time of the edge in nanoseconds (the kernel's default event clock).</param>
/// <param name="LineSequence">Per-line event sequence number from the kernel; a gap means events were dropped from a full buffer.</param>
public readonly record struct GpioEdgeEvent(int Offset, GpioEdge Edge, ulong TimestampNanoseconds, uint LineSequence);

namespace XrfEdge.Devices.Spi;

/// <summary>One atomic snapshot read from an SPI MCA: its header and the counts per channel.</summary>
/// <param name="Header">Counters, times and layout.</param>
/// <param name="Counts">Counts per channel, channel 0 first.</param>
public sealed record SpiSnapshot(SpiFrameHeader Header, long[] Counts);

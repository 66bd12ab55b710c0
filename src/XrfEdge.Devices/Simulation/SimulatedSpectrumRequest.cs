namespace XrfEdge.Devices.Simulation;

/// <summary>What a simulated MCA asks its spectrum source for at the start of each measurement.</summary>
/// <param name="MeasurementIndex">0, 1, 2 … per clear; with the seed it makes the spectrum reproducible.</param>
/// <param name="ChannelCount">Channels configured on the device (MCAC, 256–8192).</param>
/// <param name="Duration">Acquisition time the full spectrum stands for; partial reads scale it linearly.</param>
public readonly record struct SimulatedSpectrumRequest(long MeasurementIndex, int ChannelCount, TimeSpan Duration);

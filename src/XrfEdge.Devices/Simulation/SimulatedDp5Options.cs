using XrfEdge.Devices.Amptek;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Simulation;

/// <summary>How a <see cref="SimulatedDp5"/> behaves.</summary>
public sealed record SimulatedDp5Options
{
    /// <summary>Device type reported in status byte 39.</summary>
    public Dp5DeviceType DeviceType { get; init; } = Dp5DeviceType.Dp5;

    /// <summary>
    /// Firmware version reported in status byte 24 (build in byte 37), default 6.08.03. Below 6.05 the simulator never
    /// sets b36 D5 "first status since reboot", like the real firmware (guide §4.2.1, status byte 36), so a restart shows only as a lost link.
    /// </summary>
    public Version FirmwareVersion { get; init; } = new(6, 8, 3);

    /// <summary>Serial number reported in the status.</summary>
    public uint SerialNumber { get; init; } = 31337;

    /// <summary>Whether a PC5 (HV/TEC supply) is fitted; without one HVSE/TECS answer "PC5 not present" like a bare DP5.</summary>
    public bool HasPc5 { get; init; } = true;

    /// <summary>Seed for garbage bytes and fault choices.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The fault to inject.</summary>
    public SimulatedFault Fault { get; init; } = SimulatedFault.None;

    /// <summary>Inject the fault into every n-th reply (default 3: replies 3, 6, 9 …).</summary>
    public int FaultEvery { get; init; } = 3;

    /// <summary>Delay of a slow reply (default 2 s, above the 500 ms + wire-time time-out of a status request).</summary>
    public TimeSpan SlowReplyDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Pace replies at this line rate (bit/s, 10 bits per byte) as a real UART would; null sends at link speed.</summary>
    public int? PaceBaudRate { get; init; }

    /// <summary>
    /// The simulated detector's true calibration for a channel count (default: <see cref="ExampleSpectrumSource.CalibrationFor"/>,
    /// −0.02 keV offset, 30 keV across the range — what firmware-config/simulator.json declares). Source spectra are mapped onto it by energy.
    /// </summary>
    public Func<int, EnergyCalibration> DetectorCalibration { get; init; } = ExampleSpectrumSource.CalibrationFor;

    /// <summary>Accumulation time the full source spectrum stands for when PRET is OFF.</summary>
    public TimeSpan DefaultDuration { get; init; } = TimeSpan.FromSeconds(10);
}

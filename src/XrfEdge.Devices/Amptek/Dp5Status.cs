using System.Buffers.Binary;
using System.Globalization;

namespace XrfEdge.Devices.Amptek;

/// <summary>
/// The 64-byte DP5 status (packet 80/01, or the tail of a spectrum + status packet), decoded field by field
/// per DP5 Programmer's Guide rev A7 §4.2.1 and rev B3, cross-checked with the Amptek SDK's DP5Status.cpp:
/// <code>
///  0–3 fast count u32 LE      4–7 slow count u32 LE     8–11 G.P. counter u32 LE
///  12  acc. time ms part 0–99 13–15 acc. time ×100 ms u24 LE
///  16–19 live time ms (MCA8000D)  20–23 real time ms u32 LE
///  24 firmware (major.minor nibbles)  25 FPGA  26–29 serial u32 LE (b29 ≥ 128: none)
///  30–31 HV ×0.5 V signed BIG-endian  32–33 detector temp ((b32&amp;0x0F)&lt;&lt;8|b33)×0.1 K  34 board temp int8 °C
///  35 flags: D7 preset real time reached, D6 auto fast thr. locked, D5 MCA enabled, D4 preset count reached,
///            D3 gate inactive, D2 scope data ready, D1 configured
///  36 flags: D7 auto input offset searching, D6 MCS done, D5 first status since reboot, D1 80 MHz clock, D0 CLCK=AUTO
///  37 firmware build (low nibble)  38 power board flags  39 device ID  40–63 device-specific / unused
/// </code>
/// </summary>
public sealed record Dp5Status
{
    /// <summary>Length of the status field, bytes: 64.</summary>
    public const int Length = 64;

    /// <summary>MCA8000D firmware 6.07 is the first with a live time and PREL (Amptek SDK DP5Status.cpp).</summary>
    private static readonly Version FirstFirmwareWithLiveTime = new(6, 7);

    /// <summary>Fast-channel count (all detected events, incl. piled-up).</summary>
    public uint FastCount { get; init; }

    /// <summary>Slow-channel count: events that land in the spectrum.</summary>
    public uint SlowCount { get; init; }

    /// <summary>General-purpose counter.</summary>
    public uint GeneralPurposeCount { get; init; }

    /// <summary>Accumulation time (stops while gated, during transfers and reset lock-out); 1 ms resolution.</summary>
    public TimeSpan AccumulationTime { get; init; }

    /// <summary>
    /// Status bytes 16–19 as milliseconds: the live time on an MCA8000D with firmware 6.07 or later
    /// (<see cref="ReportsDeviceLiveTime"/>); on other devices and older firmware the bytes carry no live time.
    /// </summary>
    public TimeSpan DeviceLiveTime { get; init; }

    /// <summary>
    /// Whether bytes 16–19 are a live time: an MCA8000D with firmware 6.07 or later, the SDK's test
    /// (DP5Status.cpp: <c>DEVICE_ID == dppMCA8000D &amp;&amp; Firmware &gt;= 0x67</c>; reference note mca-and-files.md §1.6).
    /// The same test decides whether b35 D6 means "preset live time reached" rather than "auto fast threshold locked".
    /// </summary>
    public bool ReportsDeviceLiveTime => DeviceType == Dp5DeviceType.Mca8000D && FirmwareVersion >= FirstFirmwareWithLiveTime;

    /// <summary>
    /// The time to divide counts by: <see cref="DeviceLiveTime"/> where the device reports one
    /// (<see cref="ReportsDeviceLiveTime"/>), otherwise <see cref="AccumulationTime"/>, which the Amptek SDK writes as
    /// LIVE_TIME for the DP5, PX5 and X-123 (they report no live time; ConsoleHelper.cpp).
    /// </summary>
    public TimeSpan LiveTime => ReportsDeviceLiveTime ? DeviceLiveTime : AccumulationTime;

    /// <summary>Real time (FW 6.01+), 1 ms resolution.</summary>
    public TimeSpan RealTime { get; init; }

    /// <summary>Firmware version major.minor.build.</summary>
    public Version FirmwareVersion { get; init; } = new(0, 0);

    /// <summary>FPGA version major.minor.</summary>
    public Version FpgaVersion { get; init; } = new(0, 0);

    /// <summary>Serial number, or null when the unit reports none (b29 ≥ 128, SDK rule).</summary>
    public uint? SerialNumber { get; init; }

    /// <summary>Detector high voltage, V (0.5 V resolution; sign = polarity).</summary>
    public double HighVoltageVolts { get; init; }

    /// <summary>Detector temperature, K (0.1 K resolution; about 220–240 K for a cooled SDD).</summary>
    public double DetectorTemperatureKelvin { get; init; }

    /// <summary>Board temperature, °C.</summary>
    public int BoardTemperatureCelsius { get; init; }

    /// <summary>b35 D7: preset real time reached, MCA stopped.</summary>
    public bool PresetRealTimeReached { get; init; }

    /// <summary>b35 D6: auto fast threshold locked.</summary>
    public bool AutoFastThresholdLocked { get; init; }

    /// <summary>b35 D5: MCA enabled. Dropping to 0 after enable marks the end of a preset acquisition.</summary>
    public bool McaEnabled { get; init; }

    /// <summary>b35 D4: preset count reached, MCA stopped.</summary>
    public bool PresetCountReached { get; init; }

    /// <summary>b35 D3: 1 = gate off or inactive (FW 6.06.07+).</summary>
    public bool GateInactive { get; init; }

    /// <summary>b35 D2: scope data ready.</summary>
    public bool ScopeDataReady { get; init; }

    /// <summary>b35 D1: unit configured.</summary>
    public bool Configured { get; init; }

    /// <summary>b36 D7: auto input offset still searching (0 = locked).</summary>
    public bool AutoInputOffsetSearching { get; init; }

    /// <summary>b36 D6: MCS finished.</summary>
    public bool McsFinished { get; init; }

    /// <summary>b36 D5: first status since reboot (FW 6.05+).</summary>
    public bool FirstStatusSinceReboot { get; init; }

    /// <summary>b36 D1: FPGA clock is 80 MHz (else 20 MHz).</summary>
    public bool Clock80MHz { get; init; }

    /// <summary>b36 D0: CLCK=AUTO in use.</summary>
    public bool AutoClock { get; init; }

    /// <summary>b38: raw power-board flags (D7 PC5 detected, D6 HV positive, D5 preamp ±8.5 V).</summary>
    public byte PowerBoardFlags { get; init; }

    /// <summary>b39: device type.</summary>
    public Dp5DeviceType DeviceType { get; init; }

    /// <summary>Dead-time fraction estimate 1 − slow/fast (0–1), or null with no fast counts; an approximation only.</summary>
    public double? DeadTimeFraction => FastCount == 0 ? null : Math.Clamp(1.0 - ((double)SlowCount / FastCount), 0, 1);

    /// <summary>Decodes a 64-byte status field.</summary>
    /// <exception cref="ArgumentException">Not 64 bytes.</exception>
    public static Dp5Status Decode(ReadOnlySpan<byte> d)
    {
        if (d.Length != Length)
        {
            throw new ArgumentException($"a DP5 status is {Length} bytes, got {d.Length}", nameof(d));
        }

        var accumulationMs = d[12] + (100L * (d[13] | (d[14] << 8) | (d[15] << 16)));
        var serialRaw = BinaryPrimitives.ReadUInt32LittleEndian(d[26..]);
        return new Dp5Status
        {
            FastCount = BinaryPrimitives.ReadUInt32LittleEndian(d),
            SlowCount = BinaryPrimitives.ReadUInt32LittleEndian(d[4..]),
            GeneralPurposeCount = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]),
            AccumulationTime = TimeSpan.FromMilliseconds(accumulationMs),
            DeviceLiveTime = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32LittleEndian(d[16..])),
            RealTime = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32LittleEndian(d[20..])),
            FirmwareVersion = new Version(d[24] >> 4, d[24] & 0x0F, d[37] & 0x0F),
            FpgaVersion = new Version(d[25] >> 4, d[25] & 0x0F),
            SerialNumber = d[29] >= 128 ? null : serialRaw,
            HighVoltageVolts = BinaryPrimitives.ReadInt16BigEndian(d[30..]) * 0.5,
            DetectorTemperatureKelvin = (((d[32] & 0x0F) << 8) | d[33]) * 0.1,
            BoardTemperatureCelsius = (sbyte)d[34],
            PresetRealTimeReached = (d[35] & 0x80) != 0,
            AutoFastThresholdLocked = (d[35] & 0x40) != 0,
            McaEnabled = (d[35] & 0x20) != 0,
            PresetCountReached = (d[35] & 0x10) != 0,
            GateInactive = (d[35] & 0x08) != 0,
            ScopeDataReady = (d[35] & 0x04) != 0,
            Configured = (d[35] & 0x02) != 0,
            AutoInputOffsetSearching = (d[36] & 0x80) != 0,
            McsFinished = (d[36] & 0x40) != 0,
            FirstStatusSinceReboot = (d[36] & 0x20) != 0,
            Clock80MHz = (d[36] & 0x02) != 0,
            AutoClock = (d[36] & 0x01) != 0,
            PowerBoardFlags = d[38],
            DeviceType = (Dp5DeviceType)d[39],
        };
    }

    /// <summary>Encodes this status into 64 bytes (the simulator's side of <see cref="Decode"/>).</summary>
    public byte[] Encode()
    {
        var d = new byte[Length];
        BinaryPrimitives.WriteUInt32LittleEndian(d, FastCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(4), SlowCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(8), GeneralPurposeCount);
        var accumulationMs = (long)AccumulationTime.TotalMilliseconds;
        d[12] = (byte)(accumulationMs % 100);
        var tenths = accumulationMs / 100;
        d[13] = (byte)tenths;
        d[14] = (byte)(tenths >> 8);
        d[15] = (byte)(tenths >> 16);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(16), (uint)DeviceLiveTime.TotalMilliseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(20), (uint)RealTime.TotalMilliseconds);
        d[24] = (byte)((FirmwareVersion.Major << 4) | (FirmwareVersion.Minor & 0x0F));
        d[25] = (byte)((FpgaVersion.Major << 4) | (FpgaVersion.Minor & 0x0F));
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(26), SerialNumber ?? 0x8000_0000u);
        BinaryPrimitives.WriteInt16BigEndian(d.AsSpan(30), (short)Math.Round(HighVoltageVolts * 2));
        var kelvinTenths = (int)Math.Round(DetectorTemperatureKelvin * 10);
        d[32] = (byte)((kelvinTenths >> 8) & 0x0F);
        d[33] = (byte)kelvinTenths;
        d[34] = (byte)(sbyte)BoardTemperatureCelsius;
        d[35] = (byte)((PresetRealTimeReached ? 0x80 : 0) | (AutoFastThresholdLocked ? 0x40 : 0) | (McaEnabled ? 0x20 : 0)
            | (PresetCountReached ? 0x10 : 0) | (GateInactive ? 0x08 : 0) | (ScopeDataReady ? 0x04 : 0) | (Configured ? 0x02 : 0));
        d[36] = (byte)((AutoInputOffsetSearching ? 0x80 : 0) | (McsFinished ? 0x40 : 0) | (FirstStatusSinceReboot ? 0x20 : 0)
            | (Clock80MHz ? 0x02 : 0) | (AutoClock ? 0x01 : 0));
        d[37] = (byte)(Math.Max(FirmwareVersion.Build, 0) & 0x0F);
        d[38] = PowerBoardFlags;
        d[39] = (byte)DeviceType;
        return d;
    }

    /// <summary>Status fields as text key/value pairs (carried in RawSpectrum metadata and written to files).</summary>
    public IReadOnlyDictionary<string, string> ToMetadata()
    {
        var ic = CultureInfo.InvariantCulture;
        var m = new Dictionary<string, string>
        {
            ["device_type"] = DeviceType.ToString(),
            ["firmware"] = FirmwareVersion.ToString(),
            ["fpga"] = FpgaVersion.ToString(),
            ["fast_count"] = FastCount.ToString(ic),
            ["slow_count"] = SlowCount.ToString(ic),
            ["accumulation_time_s"] = AccumulationTime.TotalSeconds.ToString("0.000", ic),
            ["real_time_s"] = RealTime.TotalSeconds.ToString("0.000", ic),
            ["hv_volts"] = HighVoltageVolts.ToString("0.0", ic),
            ["detector_temperature_k"] = DetectorTemperatureKelvin.ToString("0.0", ic),
            ["board_temperature_c"] = BoardTemperatureCelsius.ToString(ic),
            ["mca_enabled"] = McaEnabled ? "true" : "false",
        };
        if (SerialNumber is { } serial)
        {
            m["serial_number"] = serial.ToString(ic);
        }

        if (DeadTimeFraction is { } dead)
        {
            m["dead_time_fraction"] = dead.ToString("0.0000", ic);
        }

        return m;
    }
}

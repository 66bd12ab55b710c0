using System.Globalization;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// Health figures taken from the MCA status that came with the last spectrum: the metadata keys written by
/// <c>Dp5Status.ToMetadata</c> (DP5 status packet, Programmer's Guide §4) and the SPI frame header
/// (docs/spi-mca-protocol.md). They describe the end of the last measurement, not a live reading: the service does not
/// poll the MCA between measurements. Keys a source does not write stay null (an SPI MCA reports no temperatures, a
/// replay file usually none of them); tube, battery, SoC and disk figures have no source in this service.
/// </summary>
internal static class SpectrumHealth
{
    /// <summary>0 °C in kelvin (the DP5 reports the detector temperature in K).</summary>
    private const double ZeroCelsiusKelvin = 273.15;

    /// <summary>Returns <paramref name="health"/> with temperatures, count rates and dead time filled from <paramref name="last"/>.</summary>
    public static InstrumentHealth Apply(InstrumentHealth health, RawSpectrum? last)
    {
        ArgumentNullException.ThrowIfNull(health);
        if (last is null)
        {
            return health;
        }

        double? realSeconds = last.RealTime?.TotalSeconds is > 0 and var r ? r : null;
        double? liveSeconds = last.LiveTime?.TotalSeconds is > 0 and var l ? l : null;
        double? fast = Read(last, "fast_count");
        double? slow = Read(last, "slow_count");

        // The MCA's own dead time (fast channel = every event, slow = those in the spectrum) when it sends both counts;
        // otherwise the detection's definition, 100·(1 − live/real).
        double? deadTime = fast is > 0 && slow is { } s
            ? 100 * Math.Clamp(1 - (s / fast.Value), 0, 1)
            : liveSeconds is { } live && realSeconds is { } real ? 100 * Math.Clamp(1 - (live / real), 0, 1) : null;

        return health with
        {
            DetectorTemperatureCelsius = Read(last, "detector_temperature_k") is > 0 and var kelvin ? kelvin - ZeroCelsiusKelvin : health.DetectorTemperatureCelsius,
            BoardTemperatureCelsius = Read(last, "board_temperature_c") ?? health.BoardTemperatureCelsius,
            InputCountsPerSecond = fast is { } f && realSeconds is { } rs ? f / rs : health.InputCountsPerSecond,
            OutputCountsPerSecond = liveSeconds is { } ls ? last.TotalCounts / ls : health.OutputCountsPerSecond,
            DeadTimePercent = deadTime ?? health.DeadTimePercent,
        };
    }

    private static double? Read(RawSpectrum spectrum, string key) =>
        spectrum.Metadata.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            ? value
            : null;
}

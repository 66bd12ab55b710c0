using XrfEdge.Devices.Acquisition;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Service.Options;

/// <summary>Maps the service's Acquisition and Calibration sections to the DP5 session's <see cref="AcquisitionProfile"/>.</summary>
public static class AcquisitionProfiles
{
    /// <summary>Builds the device profile; <see cref="AcquisitionProfile.Validate"/> then applies the device rules.</summary>
    public static AcquisitionProfile ToDeviceProfile(string name, AcquisitionOptions acquisition, CalibrationOptions calibration)
    {
        ArgumentNullException.ThrowIfNull(acquisition);
        ArgumentNullException.ThrowIfNull(calibration);
        var ordered = acquisition.ConfigurationOrder
            .Where(acquisition.Configuration.ContainsKey)
            .Concat(acquisition.Configuration.Keys.Where(k => !acquisition.ConfigurationOrder.Contains(k, StringComparer.OrdinalIgnoreCase)))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(k => new KeyValuePair<string, string>(k.ToUpperInvariant(), acquisition.Configuration[k]))
            .ToList();
        return new AcquisitionProfile
        {
            Name = name,
            Protocol = acquisition.Protocol,
            Device = acquisition.Device,
            BaudRate = acquisition.BaudRate,
            Configuration = ordered,
            AllowHighVoltageCommands = acquisition.AllowHighVoltageCommands,
            SaveToFlash = acquisition.SaveToFlash,
            ResetBeforeConfiguring = acquisition.ResetBeforeConfiguring,
            PresetTime = TimeSpan.FromSeconds(Math.Clamp(acquisition.PresetSeconds, 1e-4, 86_400)),
            Calibration = new EnergyCalibration(calibration.OffsetKeV, calibration.GainKeVPerChannel, calibration.QuadraticKeVPerChannel2),
            ReplyTimeout = TimeSpan.FromMilliseconds(acquisition.ReplyTimeoutMilliseconds),
            MaxAttempts = acquisition.MaxAttempts,
            ReconnectAttempts = acquisition.ReconnectAttempts,
            ReconnectDelay = TimeSpan.FromMilliseconds(acquisition.ReconnectDelayMilliseconds),
            PollInterval = TimeSpan.FromMilliseconds(acquisition.PollIntervalMilliseconds),
            SpiMode = acquisition.SpiMode,
            SpiMaxSpeedHz = acquisition.SpiMaxSpeedHz,
        };
    }
}

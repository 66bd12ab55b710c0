using Microsoft.Extensions.Logging;

namespace XrfEdge.Devices;

/// <summary>Source-generated log messages of XrfEdge.Devices (event ids 6000–6099).</summary>
internal static partial class Log
{
    [LoggerMessage(6000, LogLevel.Information, "Connected to {Device}: {DeviceType} S/N {SerialNumber}, firmware {Firmware}")]
    public static partial void Connected(ILogger logger, string device, string deviceType, string serialNumber, string firmware);

    [LoggerMessage(6001, LogLevel.Warning, "No valid reply from {Device} to {Request} within {TimeoutMs} ms (attempt {Attempt} of {MaxAttempts})")]
    public static partial void ReplyTimedOut(ILogger logger, string device, string request, double timeoutMs, int attempt, int maxAttempts);

    [LoggerMessage(6002, LogLevel.Warning, "Corrupt reply from {Device} to {Request} (checksum/length rejected, attempt {Attempt} of {MaxAttempts}); retrying")]
    public static partial void FrameRejected(ILogger logger, string device, string request, int attempt, int maxAttempts);

    [LoggerMessage(6003, LogLevel.Warning, "{Device} answered {Request} with transient error ACK {AckCode} (attempt {Attempt} of {MaxAttempts}); retrying")]
    public static partial void TransientAck(ILogger logger, string device, string request, string ackCode, int attempt, int maxAttempts);

    [LoggerMessage(6004, LogLevel.Warning, "Link to {Device} lost: {Reason}; reconnecting")]
    public static partial void LinkLost(ILogger logger, string device, string reason);

    [LoggerMessage(6005, LogLevel.Information, "Reconnected to {Device} after {Attempts} attempt(s)")]
    public static partial void Reconnected(ILogger logger, string device, int attempts);

    [LoggerMessage(6006, LogLevel.Debug, "Ignored unexpected packet {Packet} while waiting for the reply to {Request}")]
    public static partial void UnexpectedPacket(ILogger logger, string packet, string request);

    [LoggerMessage(6007, LogLevel.Information, "Applied {CommandCount} configuration command(s) to the DP5 ({PacketCount} packet(s), saved to flash: {Saved})")]
    public static partial void ConfigurationApplied(ILogger logger, int commandCount, int packetCount, bool saved);

    [LoggerMessage(6008, LogLevel.Debug, "Simulator: request {Request}")]
    public static partial void SimulatorRequest(ILogger logger, string request);

    [LoggerMessage(6009, LogLevel.Information, "Simulator: injecting fault {Fault} into reply {ReplyNumber}")]
    public static partial void SimulatorFault(ILogger logger, string fault, long replyNumber);

    [LoggerMessage(6010, LogLevel.Warning, "SPI frame rejected: {Reason} (attempt {Attempt} of {MaxAttempts})")]
    public static partial void SpiFrameRejected(ILogger logger, string reason, int attempt, int maxAttempts);

    [LoggerMessage(6011, LogLevel.Debug, "A reply to {Request} announces {DataBytes} data bytes, more than the {ExpectedBytes} expected; waiting up to {TimeoutMs} ms for it")]
    public static partial void ReplyLongerThanExpected(ILogger logger, string request, int dataBytes, int expectedBytes, double timeoutMs);

    [LoggerMessage(6012, LogLevel.Warning, "{Device} restarted (status b36 D5: first status since reboot); its RAM configuration is back to the flash defaults")]
    public static partial void DeviceRestarted(ILogger logger, string device);

    [LoggerMessage(6013, LogLevel.Warning, "Re-applying the profile to {Device} before the measurement: {Reason}")]
    public static partial void ProfileReapplying(ILogger logger, string device, string reason);

    [LoggerMessage(6014, LogLevel.Debug, "{Device} answered {Request} with busy ACK ({BusyReplies} so far); asking again in {WaitMs} ms")]
    public static partial void DeviceBusy(ILogger logger, string device, string request, int busyReplies, double waitMs);

    [LoggerMessage(6015, LogLevel.Warning, "Link to {Device} hung up between measurements (adapter pulled?): port closed; the next measurement reopens it")]
    public static partial void LinkHungUpIdle(ILogger logger, string device);
}

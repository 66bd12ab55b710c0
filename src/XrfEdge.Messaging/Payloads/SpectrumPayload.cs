using System.Globalization;
using XrfEdge.Messaging.Protos;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Messaging.Payloads;

/// <summary>Converts between <see cref="RawSpectrum"/> and the <c>xrfedge.v1.Spectrum</c> protobuf of the spectrum topic.</summary>
public static class SpectrumPayload
{
    /// <summary>v5 content type of the spectrum topic.</summary>
    public const string ContentType = "application/x-protobuf";

    /// <summary>Encodes the spectrum.</summary>
    public static byte[] Encode(string measurementId, string device, RawSpectrum spectrum, DateTimeOffset? acquired)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        var message = new Spectrum
        {
            MeasurementId = measurementId,
            Device = device,
            AcquiredUnixMs = acquired?.ToUnixTimeMilliseconds() ?? 0,
            OffsetKev = spectrum.Calibration.OffsetKeV,
            GainKevPerChannel = spectrum.Calibration.GainKeVPerChannel,
            QuadraticKevPerChannel2 = spectrum.Calibration.QuadraticKeVPerChannel2,
            LiveTimeS = spectrum.LiveTime?.TotalSeconds ?? 0,
            RealTimeS = spectrum.RealTime?.TotalSeconds ?? 0,
            Anode = spectrum.Excitation?.Anode ?? string.Empty,
            TubeKv = spectrum.Excitation?.TubeVoltageKilovolts ?? 0,
            TubeUa = spectrum.Excitation?.TubeCurrentMicroamperes ?? 0,
        };
        foreach (var count in spectrum.Counts)
        {
            message.Counts.Add((ulong)Math.Max(0, count));
        }

        foreach (var (key, value) in spectrum.Metadata)
        {
            message.Metadata[key] = value;
        }

        return Google.Protobuf.MessageExtensions.ToByteArray(message);
    }

    /// <summary>Decodes a spectrum payload back to a <see cref="RawSpectrum"/> (id = measurement id).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid Spectrum message.</exception>
    public static RawSpectrum Decode(ReadOnlySpan<byte> payload)
    {
        Spectrum message;
        try
        {
            message = Spectrum.Parser.ParseFrom(payload);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"Spectrum payload of {payload.Length} bytes is not a valid xrfedge.v1.Spectrum: {ex.Message}", ex);
        }

        return new RawSpectrum
        {
            Id = message.MeasurementId,
            Counts = [.. message.Counts.Select(c => (long)c)],
            Calibration = new EnergyCalibration(message.OffsetKev, message.GainKevPerChannel, message.QuadraticKevPerChannel2),
            LiveTime = Seconds(message.LiveTimeS, "live time", payload.Length),
            RealTime = Seconds(message.RealTimeS, "real time", payload.Length),
            Metadata = new Dictionary<string, string>(message.Metadata),
            Excitation = message.TubeKv > 0 || message.Anode.Length > 0
                ? new Excitation(message.Anode.Length > 0 ? message.Anode : null, message.TubeKv > 0 ? message.TubeKv : null, message.TubeUa > 0 ? message.TubeUa : null)
                : null,
        };
    }

    /// <summary>
    /// A stored time in seconds, null when not positive (unset). Damage that still parses (a flipped exponent bit) can
    /// give +infinity or more seconds than a <see cref="TimeSpan"/> holds, which TimeSpan.FromSeconds answers with an
    /// OverflowException; it is the payload that is invalid.
    /// </summary>
    private static TimeSpan? Seconds(double seconds, string what, int payloadBytes) =>
        !(seconds > 0) ? null
        : seconds < TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds)
        : throw new InvalidDataException(string.Create(
            CultureInfo.InvariantCulture,
            $"Spectrum payload of {payloadBytes} bytes is not a valid xrfedge.v1.Spectrum: {what} of {seconds} s is out of range"));
}

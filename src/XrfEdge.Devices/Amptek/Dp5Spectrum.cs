using System.Globalization;

namespace XrfEdge.Devices.Amptek;

/// <summary>
/// A spectrum response (PID1 0x81): 256–8192 channels of 3-byte little-endian counts, optionally
/// followed by the 64-byte status (guide rev A7 §4.2.2–4.2.13). PID2 = 1,3,5,7,9,11 for 256…8192
/// channels without status, +1 with status; channels = 256 · 2^((PID2 − 1) / 2) (Amptek SDK ConsoleHelper.cpp).
/// <code>
/// data: c0_lo c0_mid c0_hi  c1_lo c1_mid c1_hi … c(n−1)_hi  [64-byte status]
/// </code>
/// </summary>
/// <param name="Counts">Counts per channel (0 – 16,777,215), channel 0 first.</param>
/// <param name="Status">The status sent with the spectrum, or null for the plain forms.</param>
public sealed record Dp5Spectrum(int[] Counts, Dp5Status? Status)
{
    /// <summary>Largest value of a 24-bit channel: 16,777,215.</summary>
    public const int MaxChannelCount = 0xFF_FFFF;

    /// <summary>True when <paramref name="packet"/> is a spectrum response.</summary>
    public static bool IsSpectrum(Dp5Packet packet) => packet.Pid1 == 0x81 && packet.Pid2 is >= 0x01 and <= 0x0C;

    /// <summary>Channel count for a spectrum PID2 (1–12), or 0 if PID2 is not a spectrum kind.</summary>
    public static int ChannelsFor(byte pid2) => pid2 is >= 1 and <= 12 ? 256 << ((pid2 - 1) >> 1) : 0;

    /// <summary>PID2 for <paramref name="channels"/> (256–8192, power of two) with or without status.</summary>
    public static byte Pid2For(int channels, bool withStatus)
    {
        var index = channels switch
        {
            256 => 0, 512 => 1, 1024 => 2, 2048 => 3, 4096 => 4, 8192 => 5,
            _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "the DP5 supports 256, 512, 1024, 2048, 4096 or 8192 channels"),
        };
        return (byte)((index * 2) + (withStatus ? 2 : 1));
    }

    /// <summary>Decodes a spectrum packet, checking that LEN matches the PID2 (3n or 3n + 64).</summary>
    /// <exception cref="Dp5ProtocolException">Not a spectrum packet, or its length does not match.</exception>
    public static Dp5Spectrum Decode(Dp5Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (!IsSpectrum(packet))
        {
            throw new Dp5ProtocolException($"expected a spectrum packet (81/01–81/0C), got {packet}");
        }

        var channels = ChannelsFor(packet.Pid2);
        var withStatus = (packet.Pid2 & 1) == 0;
        var expected = (3 * channels) + (withStatus ? Dp5Status.Length : 0);
        if (packet.Data.Length != expected)
        {
            throw new Dp5ProtocolException(string.Create(
                CultureInfo.InvariantCulture,
                $"spectrum packet 81/{packet.Pid2:X2} should carry {expected} bytes ({channels} channels{(withStatus ? " + status" : string.Empty)}), got {packet.Data.Length}"));
        }

        var d = packet.Data.AsSpan();
        var counts = new int[channels];
        for (var channel = 0; channel < channels; channel++)
        {
            var i = 3 * channel;
            counts[channel] = d[i] | (d[i + 1] << 8) | (d[i + 2] << 16);
        }

        return new Dp5Spectrum(counts, withStatus ? Dp5Status.Decode(d[(3 * channels)..]) : null);
    }

    /// <summary>Encodes as a spectrum response packet (the simulator's side); counts above 16,777,215 saturate.</summary>
    public Dp5Packet Encode()
    {
        var channels = Counts.Length;
        var data = new byte[(3 * channels) + (Status is null ? 0 : Dp5Status.Length)];
        for (var channel = 0; channel < channels; channel++)
        {
            var value = Math.Clamp(Counts[channel], 0, MaxChannelCount);
            data[3 * channel] = (byte)value;
            data[(3 * channel) + 1] = (byte)(value >> 8);
            data[(3 * channel) + 2] = (byte)(value >> 16);
        }

        Status?.Encode().CopyTo(data, 3 * channels);
        return new Dp5Packet(0x81, Pid2For(channels, Status is not null), data);
    }
}

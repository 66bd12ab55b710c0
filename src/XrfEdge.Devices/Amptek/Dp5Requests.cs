using System.Globalization;
using System.Text;

namespace XrfEdge.Devices.Amptek;

/// <summary>The request packets the service sends (guide rev A7 Table 1 and §4.1.x).</summary>
public static class Dp5Requests
{
    /// <summary>Request status, 01/01 → 80/01.</summary>
    public static Dp5Packet Status() => new(0x01, 0x01);

    /// <summary>Request spectrum: 02/01 (plain), 02/02 (and clear), 02/03 (+ status), 02/04 (+ status, and clear).</summary>
    /// <param name="withStatus">Append the 64-byte status to the counts.</param>
    /// <param name="clear">Clear the spectrum and counters in the same step (no extra dead time, guide §4.1.2).</param>
    public static Dp5Packet Spectrum(bool withStatus, bool clear) =>
        new(0x02, (byte)((withStatus ? 3 : 1) + (clear ? 1 : 0)));

    /// <summary>Clear spectrum, F0/01 → ACK.</summary>
    public static Dp5Packet ClearSpectrum() => new(0xF0, 0x01);

    /// <summary>Enable MCA/MCS, F0/02 → ACK.</summary>
    public static Dp5Packet EnableMca() => new(0xF0, 0x02);

    /// <summary>Disable MCA/MCS, F0/03 → ACK.</summary>
    public static Dp5Packet DisableMca() => new(0xF0, 0x03);

    /// <summary>Text configuration: 20/02 saved to flash (80–400 ms flash write), 20/04 not saved.</summary>
    public static Dp5Packet TextConfiguration(string commands, bool saveToFlash) =>
        new(0x20, saveToFlash ? (byte)0x02 : (byte)0x04, Ascii(commands));

    /// <summary>Text configuration read-back, 20/03 → 82/07 (guide tables; the prose typo "0x30" is wrong).</summary>
    public static Dp5Packet ReadBack(string names) => new(0x20, 0x03, Ascii(names));

    /// <summary>Comm test echo, F1/7F → 8F/7F with the same data.</summary>
    public static Dp5Packet Echo(ReadOnlySpan<byte> data)
    {
        if (data.Length > Dp5Packet.MaxRequestDataLength)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, "an echo request carries at most 512 bytes");
        }

        return new Dp5Packet(0xF1, 0x7F, data.ToArray());
    }

    /// <summary>Comm test "send ACK n", F1/n (n = 0–15 per guide §4.1.45).</summary>
    public static Dp5Packet RequestAck(byte code) => code <= 0x0F
        ? new Dp5Packet(0xF1, code)
        : throw new ArgumentOutOfRangeException(nameof(code), code, "the guide allows ACK test codes 0–15");

    /// <summary>Longest part of a text request quoted by <see cref="Describe"/>, characters: a whole typical profile packet.</summary>
    private const int QuotedTextLength = 160;

    /// <summary>
    /// Names <paramref name="request"/> for messages and logs: what it asks (guide rev A7 Table 1), its PIDs, and for a text
    /// request (20/xx) the commands it carries, e.g. <c>text configuration (DP5 20/04) 'PRET=30.0;'</c>. A DP5's error ACK
    /// need not echo the offending command (reference note mca-and-files.md §1.7), so the request's own text is what
    /// tells an operator which command was refused.
    /// </summary>
    public static string Describe(Dp5Packet request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var what = (request.Pid1, request.Pid2) switch
        {
            (0x01, 0x01) => "status request",
            (0x02, 0x01) => "spectrum request",
            (0x02, 0x02) => "spectrum request and clear",
            (0x02, 0x03) => "spectrum + status request",
            (0x02, 0x04) => "spectrum + status request and clear",
            (0xF0, 0x01) => "clear spectrum",
            (0xF0, 0x02) => "enable MCA",
            (0xF0, 0x03) => "disable MCA",
            (0x20, 0x02) => "text configuration saved to flash",
            (0x20, 0x04) => "text configuration",
            (0x20, 0x03) => "configuration read-back",
            (0xF1, 0x7F) => "echo test",
            (0xF1, _) => "ACK test",
            _ => "request",
        };
        var name = string.Create(CultureInfo.InvariantCulture, $"{what} (DP5 {request.Pid1:X2}/{request.Pid2:X2})");
        if (request.Pid1 != 0x20 || request.Data.Length == 0)
        {
            return name;
        }

        var text = Encoding.ASCII.GetString(request.Data);
        return text.Length <= QuotedTextLength ? $"{name} '{text}'" : $"{name} '{text[..QuotedTextLength]}…' ({text.Length} characters)";
    }

    private static byte[] Ascii(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length > Dp5Packet.MaxRequestDataLength)
        {
            throw new ArgumentException($"a DP5 text request carries at most 512 bytes, got {bytes.Length}", nameof(text));
        }

        return bytes;
    }
}

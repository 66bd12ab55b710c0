using System.Globalization;
using XrfEdge.Spectra;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Writes a spectrum as an Amptek PMCA ASCII file (<c>.mca</c>) that DppMCA and <see cref="AmptekMcaReader"/> read:
/// header, <c>&lt;&lt;CALIBRATION&gt;&gt;</c> points in keV, <c>&lt;&lt;DATA&gt;&gt;</c>, <c>&lt;&lt;END&gt;&gt;</c>, optional
/// <c>&lt;&lt;DP5 CONFIGURATION&gt;&gt;</c> and <c>&lt;&lt;DPP STATUS&gt;&gt;</c>. CR/LF line endings as Amptek's own writers use
/// (Amptek Spectrum File Format page). The calibration is written as points at channels 0, n/2 and n − 1 (three points
/// so that a quadratic term survives; the reader fits a quadratic through ≥ 3 points). <c>GAIN</c> is the channel-count
/// index (channels = 256 &lt;&lt; GAIN), written only when the channel count is a power of two from 256 to 16384.
/// </summary>
public static class AmptekMcaWriter
{
    private const string NewLine = "\r\n";

    /// <summary>Writes <paramref name="spectrum"/> to <paramref name="writer"/>.</summary>
    /// <param name="writer">Destination; use ISO-8859-1 when status text may hold "°".</param>
    /// <param name="spectrum">The spectrum; counts must be non-negative.</param>
    /// <param name="header">Header fields; null takes everything from the spectrum's metadata.</param>
    /// <exception cref="ArgumentException">A count is negative, or the calibration is unusable.</exception>
    public static void Write(TextWriter writer, RawSpectrum spectrum, AmptekMcaHeader? header = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(spectrum);
        var problem = spectrum.Calibration.Validate(spectrum.Counts.Length);
        if (problem is not null)
        {
            throw new ArgumentException($"spectrum \"{spectrum.Id}\" cannot be written as .mca: {problem}", nameof(spectrum));
        }

        if (Array.FindIndex(spectrum.Counts, c => c < 0) is var negative and >= 0)
        {
            throw new ArgumentException($"spectrum \"{spectrum.Id}\" cannot be written as .mca: channel {negative} has negative counts", nameof(spectrum));
        }

        header ??= new AmptekMcaHeader();
        var metadata = spectrum.Metadata;
        var channels = spectrum.Counts.Length;

        Line(writer, AmptekMcaReader.Signature);
        Line(writer, "TAG - " + (header.Tag ?? Get(metadata, "mca.TAG") ?? "live_data"));
        Line(writer, "DESCRIPTION - " + OneLine(header.Description ?? Get(metadata, "mca.DESCRIPTION") ?? spectrum.Id));
        var gainIndex = GainIndex(channels);
        if (gainIndex >= 0)
        {
            Line(writer, Invariant($"GAIN - {gainIndex}"));
        }

        Line(writer, "THRESHOLD - " + (Get(metadata, "mca.THRESHOLD") ?? "0"));
        Line(writer, "LIVE_MODE - " + (Get(metadata, "mca.LIVE_MODE") ?? "0"));
        Line(writer, "PRESET_TIME - " + (Get(metadata, "mca.PRESET_TIME") ?? "0"));
        if (spectrum.LiveTime is { } live)
        {
            Line(writer, Invariant($"LIVE_TIME - {live.TotalSeconds:F6}"));
        }

        if (spectrum.RealTime is { } real)
        {
            Line(writer, Invariant($"REAL_TIME - {real.TotalSeconds:F6}"));
        }

        var start = header.StartTime?.ToString("MM/dd/yyyy HH:mm:ss", CultureInfo.InvariantCulture) ?? Get(metadata, "mca.START_TIME");
        if (start is not null)
        {
            Line(writer, "START_TIME - " + start);
        }

        var serial = header.SerialNumber ?? Get(metadata, "mca.SERIAL_NUMBER");
        if (serial is not null)
        {
            Line(writer, "SERIAL_NUMBER - " + OneLine(serial));
        }

        Line(writer, "<<CALIBRATION>>");
        Line(writer, "LABEL - keV");
        foreach (var channel in new[] { 0, channels / 2, channels - 1 })
        {
            // "R" keeps the energy exact so a read-back recovers the calibration to the last bit of its fit.
            Line(writer, Invariant($"{channel} {spectrum.Calibration.EnergyKeV(channel):R}"));
        }

        Line(writer, "<<DATA>>");
        foreach (var count in spectrum.Counts)
        {
            Line(writer, count.ToString(CultureInfo.InvariantCulture));
        }

        Line(writer, "<<END>>");

        var configuration = header.Configuration ?? Prefixed(metadata, "dp5.");
        if (!configuration.Any(pair => pair.Key.Equals("MCAC", StringComparison.OrdinalIgnoreCase)) && gainIndex >= 0)
        {
            configuration = [.. configuration, new("MCAC", channels.ToString(CultureInfo.InvariantCulture))];
        }

        if (configuration.Count > 0)
        {
            Line(writer, "<<DP5 CONFIGURATION>>");
            foreach (var (command, value) in configuration)
            {
                Line(writer, $"{command.ToUpperInvariant()}={OneLine(value)};");
            }

            Line(writer, "<<DP5 CONFIGURATION END>>");
        }

        var status = header.Status ?? Prefixed(metadata, "status.");
        if (status.Count > 0)
        {
            Line(writer, "<<DPP STATUS>>");
            foreach (var (key, value) in status)
            {
                Line(writer, $"{key}: {OneLine(value)}");
            }

            Line(writer, "<<DPP STATUS END>>");
        }
    }

    /// <summary>Writes <paramref name="spectrum"/> to a new file at <paramref name="path"/> in ISO-8859-1.</summary>
    public static void WriteFile(string path, RawSpectrum spectrum, AmptekMcaHeader? header = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var writer = new StreamWriter(path, append: false, System.Text.Encoding.Latin1);
        Write(writer, spectrum, header);
    }

    /// <summary>GAIN index n with 256 &lt;&lt; n = channels, or −1.</summary>
    private static int GainIndex(int channels)
    {
        for (var n = 0; n <= 6; n++)
        {
            if (256 << n == channels)
            {
                return n;
            }
        }

        return -1;
    }

    private static string? Get(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) ? value : null;

    private static List<KeyValuePair<string, string>> Prefixed(IReadOnlyDictionary<string, string> metadata, string prefix) =>
        [.. metadata.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Select(pair => new KeyValuePair<string, string>(pair.Key[prefix.Length..], pair.Value))];

    private static string OneLine(string text) => text.Replace('\r', ' ').Replace('\n', ' ');

    private static void Line(TextWriter writer, string text)
    {
        writer.Write(text);
        writer.Write(NewLine);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

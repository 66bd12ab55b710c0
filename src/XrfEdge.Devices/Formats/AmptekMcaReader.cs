using System.Globalization;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Reads an Amptek PMCA/DppMCA ASCII spectrum (<c>.mca</c>), as written by DppMCA, ADMCA and the Amptek SDK:
/// <code>
/// &lt;&lt;PMCA SPECTRUM&gt;&gt;
/// TAG - live_data                 KEY - value header lines
/// GAIN - 2                        channel-count index: channels = 256 &lt;&lt; GAIN (NOT keV/channel)
/// LIVE_TIME - 100.000000          seconds (the SDK writes the accumulation time here)
/// REAL_TIME - 100.000000          seconds
/// &lt;&lt;CALIBRATION&gt;&gt;               optional
/// LABEL - keV                     unit of all the points: keV, eV, MeV, "Energy (eV)"; "Channel" = uncalibrated
/// 120 6.0                         channel energy pairs, ≥ 2 lines (channel 0 = first data line)
/// &lt;&lt;ROI&gt;&gt;                        optional, ignored
/// &lt;&lt;DATA&gt;&gt;
/// 0                               one count per line, channel 0 first
/// &lt;&lt;END&gt;&gt;                        may be missing
/// &lt;&lt;DP5 CONFIGURATION&gt;&gt;         or &lt;&lt;DPP CONFIGURATION&gt;&gt;: CMND=value;  description
/// &lt;&lt;DPP STATUS&gt;&gt;                "Key: value"
/// </code>
/// Source: the "Amptek Spectrum File Format" page of Amptek's DP5 LabVIEW SDK help, cross-checked with
/// Dih5/mcareader and the SDK's ConsoleHelper.cpp (../shared/reference/mca-and-files.md §2.1).
/// Calibration points are fitted by <see cref="FormatParsing.Fit"/>: a line through 2 points, a least-squares
/// quadratic through 3 or more. Header values are kept in metadata as <c>mca.KEY</c>, configuration as
/// <c>dp5.CMND</c>, status as <c>status.Key</c>. The channel count is checked against <c>GAIN</c> (integers
/// 0–6) and <c>MCAC</c> when present, which is how a truncated <c>&lt;&lt;DATA&gt;&gt;</c> section is caught.
/// </summary>
public static class AmptekMcaReader
{
    /// <summary>The first line of every PMCA file.</summary>
    public const string Signature = "<<PMCA SPECTRUM>>";

    /// <summary>Reads the one spectrum of an <c>.mca</c> file; never throws for bad content.</summary>
    /// <param name="reader">The text (ISO-8859-1: status lines contain "°C").</param>
    /// <param name="source">File name for ids and messages.</param>
    /// <param name="options">Fallback calibration for files without <c>&lt;&lt;CALIBRATION&gt;&gt;</c>.</param>
    public static SpectrumReadResult Read(TextReader reader, string source, SpectrumReadOptions? options = null)
        => FormatParsing.ReadSingle(reader, source, options, Parse);

    private static RawSpectrum Parse(LineCursor cursor, SpectrumReadOptions options)
    {
        var metadata = FormatParsing.SourceMetadata(cursor.Source, SpectrumFileFormat.AmptekMca);
        var first = NextNonBlank(cursor);
        if (first is null)
        {
            throw cursor.Error(0, "the file is empty");
        }

        if (!first.Trim().Equals(Signature, StringComparison.OrdinalIgnoreCase))
        {
            throw cursor.Error($"not an Amptek .mca file: the first line is \"{FormatParsing.Shorten(first)}\", expected {Signature}");
        }

        // Energies as written, in the LABEL's unit: the label applies to every point of the section, wherever it stands.
        var calibrationPoints = new List<(double Channel, double Energy)>();
        var calibrationLine = 0;
        var labelLine = 0;
        var calibrationIsChannels = false;
        List<long>? counts = null;
        var dataLine = 0;
        var dataEnded = false;
        var dataClosed = false;
        var lastCountLine = 0;
        var lastCountTerminated = true;
        var usedKeyLines = new Dictionary<string, int>(StringComparer.Ordinal);
        var section = "PMCA SPECTRUM";
        var clamp = options.NegativeCounts == NegativeCountHandling.ClampToZero;
        var energyScale = 1.0;

        while (cursor.Next() is { } raw)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("<<", StringComparison.Ordinal) && line.EndsWith(">>", StringComparison.Ordinal))
            {
                section = line[2..^2].Trim().ToUpperInvariant();
                dataClosed |= counts is not null;
                if (section == "DATA")
                {
                    if (counts is not null)
                    {
                        throw cursor.Error("a second <<DATA>> section; a .mca file holds one spectrum");
                    }

                    counts = new List<long>(4096);
                    dataLine = cursor.LineNumber;
                }
                else if (section == "END")
                {
                    dataEnded = counts is not null;
                }
                else if (section == "CALIBRATION")
                {
                    // A second section's points went into the same fit, where the first section's silently won.
                    if (calibrationLine > 0)
                    {
                        throw cursor.Error(FormatParsing.Invariant($"a second <<CALIBRATION>> section (the first is at line {calibrationLine}); a .mca file holds one calibration"));
                    }

                    calibrationLine = cursor.LineNumber;
                }

                continue;
            }

            switch (section)
            {
                case "PMCA SPECTRUM":
                    CheckOnce(cursor, usedKeyLines, ReadHeader(line, metadata));
                    FormatParsing.CheckHeaderEntries(cursor, metadata.Count);
                    break;
                case "CALIBRATION":
                    if (line.StartsWith("LABEL", StringComparison.OrdinalIgnoreCase))
                    {
                        if (labelLine > 0)
                        {
                            throw cursor.Error(FormatParsing.Invariant($"calibration LABEL is given twice (lines {labelLine} and {cursor.LineNumber}); a .mca file states the unit of its points once"));
                        }

                        labelLine = cursor.LineNumber;
                        var label = ValueAfterDash(line) ?? string.Empty;
                        metadata["mca.CALIBRATION_LABEL"] = label;
                        energyScale = UnitScale(label, out calibrationIsChannels)
                            ?? throw cursor.Error($"calibration LABEL \"{FormatParsing.Shorten(label)}\" is not an energy unit (keV, eV, MeV) nor \"Channel\"");
                        break;
                    }

                    var pair = FormatParsing.Tokens(line);
                    if (pair.Length != 2)
                    {
                        throw cursor.Error($"calibration point \"{FormatParsing.Shorten(line)}\" must be two numbers, \"channel energy\"");
                    }

                    calibrationPoints.Add((
                        FormatParsing.Number(cursor, pair[0], "calibration channel"),
                        FormatParsing.Number(cursor, pair[1], "calibration energy")));
                    break;
                case "DATA":
                    if (dataEnded)
                    {
                        break;
                    }

                    counts!.Add(FormatParsing.Count(cursor, line, counts.Count, clamp));
                    FormatParsing.CheckChannelsSoFar(cursor, counts.Count);
                    lastCountLine = cursor.LineNumber;
                    lastCountTerminated = cursor.LastLineTerminated;
                    break;
                case "DP5 CONFIGURATION" or "DPP CONFIGURATION":
                    CheckOnce(cursor, usedKeyLines, ReadConfiguration(line, metadata));
                    FormatParsing.CheckHeaderEntries(cursor, metadata.Count);
                    break;
                case "DPP STATUS":
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        metadata["status." + line[..colon].Trim()] = line[(colon + 1)..].Trim();
                        FormatParsing.CheckHeaderEntries(cursor, metadata.Count);
                    }

                    break;
                default:
                    // <<ROI>>, <<END>> trailers, configuration/status END markers and unknown sections carry nothing we use.
                    break;
            }
        }

        if (counts is null)
        {
            throw cursor.Error("missing <<DATA>> section: the file ends here without counts");
        }

        if (!dataClosed)
        {
            // <<END>> may be missing (third-party writers); then the data ran to the end of the file, which must be whole.
            FormatParsing.CheckLastCountComplete(cursor, lastCountLine, lastCountTerminated, "<<END>>");
            if (!DeclaresChannelCount(metadata))
            {
                throw cursor.Error(dataLine, "<<END>> is missing and neither GAIN, MCAC nor CHANNELS gives the channel count, so a copy cut short cannot be told from a whole file (if it is whole, add a <<END>> line after the counts)");
            }
        }

        FormatParsing.CheckChannelCount(cursor, dataLine, counts.Count);
        CheckDeclaredChannels(cursor, metadata, counts.Count, dataLine);

        EnergyCalibration? fromFile = null;
        if (calibrationPoints.Count > 0 && !calibrationIsChannels)
        {
            fromFile = FormatParsing.Fit([.. calibrationPoints.Select(p => (p.Channel, p.Energy * energyScale))], out var problem)
                ?? throw cursor.Error(calibrationLine, "bad <<CALIBRATION>>: " + problem);
        }

        var calibration = FormatParsing.ResolveCalibration(cursor, fromFile, calibrationLine, options, counts.Count);
        long[] values = [.. counts];
        if (clamp)
        {
            FormatParsing.ClampNegatives(values, metadata);
        }

        return new RawSpectrum
        {
            Id = FormatParsing.IdFromSource(cursor.Source),
            Counts = values,
            Calibration = calibration,
            LiveTime = Seconds(cursor, metadata, usedKeyLines, "LIVE_TIME"),
            RealTime = Seconds(cursor, metadata, usedKeyLines, "REAL_TIME"),
            Metadata = metadata,
        };
    }

    /// <summary>Keeps a header line as <c>mca.KEY</c>; returns that metadata key, or null for a line that is not <c>KEY - value</c>.</summary>
    private static string? ReadHeader(string line, Dictionary<string, string> metadata)
    {
        var dash = line.IndexOf(" - ", StringComparison.Ordinal);
        if (dash > 0)
        {
            var key = "mca." + line[..dash].Trim().ToUpperInvariant();
            metadata[key] = line[(dash + 3)..].Trim();
            return key;
        }

        if (line.EndsWith(" -", StringComparison.Ordinal))
        {
            var key = "mca." + line[..^2].Trim().ToUpperInvariant();
            metadata[key] = string.Empty;
            return key;
        }

        // Third-party writers emit "CHANNELS: 1024" or "VERSION: 2" (mca-and-files.md §2.1).
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && line[..colon].Trim().Length > 0 && !line[..colon].Contains(' ', StringComparison.Ordinal))
        {
            var key = "mca." + line[..colon].Trim().ToUpperInvariant();
            metadata[key] = line[(colon + 1)..].Trim();
            return key;
        }

        return null;
    }

    /// <summary>Keeps a configuration line as <c>dp5.CMND</c>; returns that metadata key, or null for a line without <c>=</c>.</summary>
    private static string? ReadConfiguration(string line, Dictionary<string, string> metadata)
    {
        // "MCAC=2048;    MCA/MCS Channels": the value ends at the first ';', the rest is a description.
        var equals = line.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return null;
        }

        var end = line.IndexOf(';', equals);
        var value = end < 0 ? line[(equals + 1)..] : line[(equals + 1)..end];
        var key = "dp5." + line[..equals].Trim().ToUpperInvariant();
        metadata[key] = value.Trim();
        return key;
    }

    /// <summary>
    /// Throws when a key the reader uses (the times, and the channel counts that catch truncation) comes a second time:
    /// the last value used to win silently, so a hand-merged header read a live time of 3 s instead of 29.5 s.
    /// </summary>
    private static void CheckOnce(LineCursor cursor, Dictionary<string, int> usedKeyLines, string? key)
    {
        if (key is not ("mca.LIVE_TIME" or "mca.REAL_TIME" or "mca.GAIN" or "mca.CHANNELS" or "dp5.MCAC"))
        {
            return;
        }

        if (usedKeyLines.TryGetValue(key, out var first))
        {
            throw cursor.Error(FormatParsing.Invariant($"{key[4..]} is given twice (lines {first} and {cursor.LineNumber}); a .mca file states it once"));
        }

        usedKeyLines[key] = cursor.LineNumber;
    }

    /// <summary>Whether <c>GAIN</c> (an index 0–6), <c>MCAC</c> or a third-party <c>CHANNELS</c> states how many channels the data hold.</summary>
    private static bool DeclaresChannelCount(Dictionary<string, string> metadata) =>
        (metadata.TryGetValue("dp5.MCAC", out var mcac) && int.TryParse(mcac, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        || (metadata.TryGetValue("mca.CHANNELS", out var channels) && int.TryParse(channels, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        || (metadata.TryGetValue("mca.GAIN", out var gain) && int.TryParse(gain, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) && index is >= 0 and <= 6);

    private static void CheckDeclaredChannels(LineCursor cursor, Dictionary<string, string> metadata, int channels, int dataLine)
    {
        if (metadata.TryGetValue("dp5.MCAC", out var mcac)
            && int.TryParse(mcac, NumberStyles.Integer, CultureInfo.InvariantCulture, out var declared)
            && declared != channels)
        {
            throw cursor.Error(dataLine, FormatParsing.Invariant($"<<DATA>> holds {channels} channels but the configuration says MCAC={declared}; the file is truncated or corrupt"));
        }

        if (metadata.TryGetValue("mca.CHANNELS", out var stated)
            && int.TryParse(stated, NumberStyles.Integer, CultureInfo.InvariantCulture, out var statedChannels)
            && statedChannels != channels)
        {
            throw cursor.Error(dataLine, FormatParsing.Invariant($"<<DATA>> holds {channels} channels but CHANNELS says {statedChannels}; the file is truncated or corrupt"));
        }

        // GAIN is the channel-count index 0–6 (256 << GAIN), not keV/channel; other values are third-party use and ignored.
        if (metadata.TryGetValue("mca.GAIN", out var gain)
            && int.TryParse(gain, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index)
            && index is >= 0 and <= 6
            && (256 << index) != channels)
        {
            throw cursor.Error(dataLine, FormatParsing.Invariant($"<<DATA>> holds {channels} channels but GAIN - {index} means {256 << index}; the file is truncated or corrupt"));
        }
    }

    private static TimeSpan? Seconds(LineCursor cursor, Dictionary<string, string> metadata, Dictionary<string, int> keyLines, string key)
    {
        if (!metadata.TryGetValue("mca." + key, out var text) || text.Length == 0)
        {
            return null;
        }

        var line = keyLines.GetValueOrDefault("mca." + key);
        var seconds = FormatParsing.TryNumber(text);
        return seconds is >= 0
            ? FormatParsing.Seconds(cursor, line, seconds.Value, key)
            : throw cursor.Error(line, $"{key} \"{FormatParsing.Shorten(text)}\" is not a non-negative number of seconds");
    }

    private static string? ValueAfterDash(string line)
    {
        var dash = line.IndexOf('-', StringComparison.Ordinal);
        return dash < 0 ? null : line[(dash + 1)..].Trim();
    }

    /// <summary>
    /// keV per unit of a LABEL ("keV", "eV", "Energy (eV)", "MeV"); null when it names none. "Channel" marks an uncalibrated
    /// file. Matched by whole word (<see cref="EnergyUnits"/>): "MeV" contains "eV" and was read as eV, a factor of 10^6 off.
    /// </summary>
    private static double? UnitScale(string label, out bool isChannels)
    {
        var words = EnergyUnits.Words(label);
        var keVPerUnit = EnergyUnits.KeVPerUnitIn(words);
        isChannels = keVPerUnit is null && words.Any(EnergyUnits.IsChannelWord);
        return isChannels ? 1.0 : keVPerUnit;
    }

    private static string? NextNonBlank(LineCursor cursor)
    {
        while (cursor.Next() is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                return line;
            }
        }

        return null;
    }
}

using System.Globalization;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Reads an EMSA/MAS spectral data file (ISO 22029; <c>.msa</c>, <c>.emsa</c>):
/// <code>
/// #FORMAT      : EMSA/MAS Spectral Data File      required first line
/// #VERSION     : 1.0
/// #NPOINTS     : 4096.0                           number of channels
/// #XUNITS      : keV                              unit of the x axis: eV (the standard's usual), keV, or Channel (uncalibrated)
/// #DATATYPE    : Y                                Y (counts only) or XY (x, y pairs)
/// #XPERCHAN    : 0.0099990                        energy per channel, in its own unit ("#XPERCHAN -eV:", "10 eV") or XUNITS'
/// #OFFSET      : -0.9553045                       energy of channel 0 (taken as the channel centre)
/// #CHOFFSET    : 96                               channel of zero energy; OFFSET = −CHOFFSET·XPERCHAN when OFFSET is absent
/// #LIVETIME  -s: 120.005                          seconds ("-s", "-sec", "-seconds"; "-ms", "-msec", "-milliseconds" converted); a "-UNIT" suffix is allowed on any keyword
/// #REALTIME  -s: 134.805
/// #BEAMKV   -kV: 50                               read as the tube voltage
/// #SPECTRUM    :                                  data follow: values separated by commas and/or spaces
///        0.0,  12.0,  …
/// #ENDOFDATA   :
/// </code>
/// Source: hyperspy/rosettasciio <c>rsciio/msa/_api.py</c> and usnistgov/NeXLSpectrum.jl <c>src/emsa.jl</c>
/// (../shared/reference/mca-and-files.md §2.4). A unit stated with a value wins over <c>#XUNITS</c>; a unit the reader
/// cannot use on a keyword it uses is an error. With no unit anywhere the unit is guessed as NeXLSpectrum does (keV when
/// XPERCHAN &lt; 0.1, else eV) and the guess is recorded in metadata (<c>msa.XUNITS_ASSUMED</c>).
/// Other keywords are kept as <c>msa.KEYWORD</c> metadata. Counts written as integral decimals ("12.0") are accepted.
/// Negative values are clamped to 0 by default and recorded (<see cref="NegativeCountHandling.ClampToZero"/>): the NIST
/// Bruker files hold values down to −316 in channels 124–131 (≈0.3 keV) where the zero peak was subtracted.
/// </summary>
public static class MsaReader
{
    // XY data: how far (in channels) an x value may sit from its channel's centre; see CheckXValues.
    private const double XToleranceChannels = 0.51;

    // The keywords the reader turns into the spectrum; each may be stated once (the last used to win silently).
    private static readonly HashSet<string> UsedKeywords =
        new(["NPOINTS", "DATATYPE", "XUNITS", "XPERCHAN", "OFFSET", "CHOFFSET", "LIVETIME", "REALTIME", "BEAMKV"], StringComparer.Ordinal);

    /// <summary>Reads the one spectrum of an EMSA/MAS file; never throws for bad content.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">File name for ids and messages.</param>
    /// <param name="options">Fallback calibration for files without <c>#XPERCHAN</c>.</param>
    public static SpectrumReadResult Read(TextReader reader, string source, SpectrumReadOptions? options = null)
        => FormatParsing.ReadSingle(reader, source, options, Parse);

    private static RawSpectrum Parse(LineCursor cursor, SpectrumReadOptions options)
    {
        var metadata = FormatParsing.SourceMetadata(cursor.Source, SpectrumFileFormat.Msa);
        var keywords = new Dictionary<string, Keyword>(StringComparer.Ordinal);
        var first = true;
        var spectrumLine = 0;
        while (cursor.Next() is { } raw)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (!TrySplitKeyword(line, out var keyword, out var value, out var unit))
            {
                throw cursor.Error($"expected a \"#KEYWORD : value\" header line, found \"{FormatParsing.Shorten(line)}\"");
            }

            if (first)
            {
                if (keyword != "FORMAT" || !value.Contains("EMSA", StringComparison.OrdinalIgnoreCase))
                {
                    throw cursor.Error($"not an EMSA/MAS file: the first line is \"{FormatParsing.Shorten(line)}\", expected \"#FORMAT : EMSA/MAS Spectral Data File\"");
                }

                first = false;
            }

            if (keyword == "SPECTRUM")
            {
                spectrumLine = cursor.LineNumber;
                break;
            }

            if (UsedKeywords.Contains(keyword) && keywords.TryGetValue(keyword, out var earlier))
            {
                throw cursor.Error(FormatParsing.Invariant($"#{keyword} is given twice (lines {earlier.Line} and {cursor.LineNumber}); an EMSA/MAS file states it once"));
            }

            keywords[keyword] = new Keyword(value, cursor.LineNumber, unit);
            metadata["msa." + keyword] = value;
            FormatParsing.CheckHeaderEntries(cursor, keywords.Count);
        }

        if (first)
        {
            throw cursor.Error(0, "the file is empty");
        }

        if (spectrumLine == 0)
        {
            throw cursor.Error("missing data section: the file ends here without a #SPECTRUM line");
        }

        if (!keywords.TryGetValue("NPOINTS", out var npoints))
        {
            throw cursor.Error(0, "missing #NPOINTS: the channel count is required");
        }

        var declared = FormatParsing.Number(cursor.At(npoints.Line), npoints.Value, "#NPOINTS");
        if (declared != Math.Floor(declared) || declared < 0)
        {
            throw cursor.Error(npoints.Line, $"#NPOINTS \"{npoints.Value}\" is not a whole number of channels");
        }

        FormatParsing.CheckChannelCount(cursor, npoints.Line, (int)Math.Min(declared, int.MaxValue));
        var channels = (int)declared;
        var isXy = keywords.TryGetValue("DATATYPE", out var dataType) && dataType.Value.Trim().Equals("XY", StringComparison.OrdinalIgnoreCase);
        var clamp = (options.NegativeCounts ?? NegativeCountHandling.ClampToZero) == NegativeCountHandling.ClampToZero;
        var counts = ReadData(cursor, channels, isXy, spectrumLine, clamp, out var xValues);
        if (clamp)
        {
            FormatParsing.ClampNegatives(counts, metadata);
        }

        var fromFile = Calibration(cursor, keywords, metadata, channels, xValues, out var calibrationLine, out var keVPerUnit);
        var calibration = FormatParsing.ResolveCalibration(cursor, fromFile, calibrationLine, options, channels);
        if (xValues is not null && fromFile is not null)
        {
            CheckXValues(cursor, spectrumLine, xValues, keVPerUnit, calibration);
        }

        return new RawSpectrum
        {
            Id = FormatParsing.IdFromSource(cursor.Source),
            Counts = counts,
            Calibration = calibration,
            LiveTime = Seconds(cursor, keywords, "LIVETIME"),
            RealTime = Seconds(cursor, keywords, "REALTIME"),
            Excitation = BeamKilovolts(cursor, keywords) is { } kilovolts ? new Excitation(null, kilovolts, null) : null,
            Metadata = metadata,
        };
    }

    /// <summary>
    /// <c>#BEAMKV</c> as the tube voltage: absent or 0 (writers put 0 when they do not know it) is unknown; anything else
    /// must pass <see cref="Excitation.CheckTubeVoltage"/>, because the decoder drops every line the voltage cannot excite.
    /// </summary>
    private static double? BeamKilovolts(LineCursor cursor, Dictionary<string, Keyword> keywords)
    {
        var kilovolts = Scaled(cursor, keywords, "BEAMKV", "kV", unit => unit == "KV" ? 1.0 : null);
        if (kilovolts is null or 0)
        {
            return null;
        }

        var problem = Excitation.CheckTubeVoltage(kilovolts.Value);
        return problem is null ? kilovolts : throw cursor.Error(keywords["BEAMKV"].Line, "#BEAMKV: " + problem);
    }

    /// <summary>
    /// XY data state every channel's energy; they must agree with the calibration used (the header's, or the one
    /// drawn through the first and last x): strictly increasing, each within half a channel plus 1 % of its channel's
    /// centre (writers differ on whether x is a channel's start or its centre; more than that is a disagreement).
    /// </summary>
    private static void CheckXValues(LineCursor cursor, int spectrumLine, double[] xValues, double keVPerUnit, EnergyCalibration calibration)
    {
        for (var channel = 0; channel < xValues.Length; channel++)
        {
            var energy = xValues[channel] * keVPerUnit;
            if (channel > 0 && xValues[channel] <= xValues[channel - 1])
            {
                throw cursor.Error(spectrumLine, FormatParsing.Invariant($"XY data: x of channel {channel} ({xValues[channel]}) does not exceed the one before ({xValues[channel - 1]}); x must increase"));
            }

            var width = calibration.UpperEdgeKeV(channel) - calibration.LowerEdgeKeV(channel);
            var miss = Math.Abs(energy - calibration.EnergyKeV(channel)) / width;
            if (miss > XToleranceChannels)
            {
                throw cursor.Error(spectrumLine, FormatParsing.Invariant($"XY data: x of channel {channel} is {xValues[channel]} but the calibration (#OFFSET/#XPERCHAN) puts that channel at {calibration.EnergyKeV(channel) / keVPerUnit:G6}, {miss:0.##} channels away"));
            }
        }
    }

    private static long[] ReadData(LineCursor cursor, int channels, bool isXy, int spectrumLine, bool allowNegative, out double[]? xValues)
    {
        var counts = new long[channels];
        var read = 0;
        var lastCountLine = 0;
        var lastCountTerminated = true;
        var endOfData = false;
        xValues = isXy ? new double[channels] : null;
        while (cursor.Next() is { } raw)
        {
            var line = raw.AsSpan().Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                if (TrySplitKeyword(line.ToString(), out var keyword, out _, out _) && keyword == "ENDOFDATA")
                {
                    CheckNothingAfterEnd(cursor);
                    endOfData = true;
                    break;
                }

                // EMSA allows only #ENDOFDATA after the data; a header line here means a broken file.
                throw cursor.Error($"unexpected \"{FormatParsing.Shorten(line)}\" inside the data; expected counts or #ENDOFDATA");
            }

            lastCountLine = cursor.LineNumber;
            lastCountTerminated = cursor.LastLineTerminated;
            if (isXy)
            {
                var tokens = FormatParsing.Tokens(line.ToString());
                if (tokens.Length != 2)
                {
                    throw cursor.Error($"XY data line \"{FormatParsing.Shorten(line)}\" must hold two values, \"x, y\"");
                }

                if (read == channels)
                {
                    throw cursor.Error(FormatParsing.Invariant($"more data points than #NPOINTS {channels}"));
                }

                xValues![read] = FormatParsing.Number(cursor, tokens[0], "x value");
                counts[read] = FormatParsing.Count(cursor, tokens[1], read, allowNegative);
                read++;
                continue;
            }

            foreach (var token in new TokenEnumerator(line))
            {
                if (read == channels)
                {
                    throw cursor.Error(FormatParsing.Invariant($"more data points than #NPOINTS {channels}"));
                }

                counts[read] = FormatParsing.Count(cursor, token, read, allowNegative);
                read++;
            }
        }

        if (read < channels)
        {
            throw cursor.Error(spectrumLine, FormatParsing.Invariant($"#NPOINTS says {channels} channels but only {read} values follow #SPECTRUM; the file is truncated"));
        }

        if (!endOfData)
        {
            // #ENDOFDATA is tolerated missing; then #NPOINTS cannot see a cut inside the last value itself.
            FormatParsing.CheckLastCountComplete(cursor, lastCountLine, lastCountTerminated, "#ENDOFDATA");
        }

        return counts;
    }

    /// <summary>
    /// After <c>#ENDOFDATA</c> only blank lines may follow: a second spectrum concatenated onto the first (two files
    /// joined by <c>cat</c>) is an error, as a second data section is in <c>.mca</c> and <c>.spe</c>.
    /// </summary>
    private static void CheckNothingAfterEnd(LineCursor cursor)
    {
        while (cursor.Next() is { } raw)
        {
            if (raw.Trim().Length > 0)
            {
                throw cursor.Error($"\"{FormatParsing.Shorten(raw.Trim())}\" after #ENDOFDATA; an EMSA/MAS file holds one spectrum");
            }
        }
    }

    private static EnergyCalibration? Calibration(
        LineCursor cursor,
        Dictionary<string, Keyword> keywords,
        Dictionary<string, string> metadata,
        int channels,
        double[]? xValues,
        out int line,
        out double keVPerUnit)
    {
        keVPerUnit = 1.0;
        line = keywords.TryGetValue("XPERCHAN", out var perChannel) ? perChannel.Line : 0;
        var (axisKeV, channelAxis) = AxisUnit(cursor, keywords);
        if (channelAxis)
        {
            // A channel axis (XPERCHAN 1, OFFSET 0 in channels) is no energy calibration, as LABEL - Channel in .mca. A value
            // that states an energy unit of its own contradicts it; dropped unread, it left a file that said "40 eV per
            // channel" to the fallback.
            foreach (var name in (ReadOnlySpan<string>)["XPERCHAN", "OFFSET"])
            {
                if (Quantity(cursor, keywords, name) is { Unit: { } unit } && KeVPerUnit(name, unit) is not null)
                {
                    throw cursor.Error(keywords[name].Line, FormatParsing.Invariant($"#XUNITS says Channel but #{name} states \"{FormatParsing.Shorten(unit)}\", an energy unit (#XUNITS is line {keywords["XUNITS"].Line}); the axis is either channels or energy"));
                }
            }

            return null;
        }

        var xPerChannel = Quantity(cursor, keywords, "XPERCHAN");
        var offset = Quantity(cursor, keywords, "OFFSET");

        // XY data without the header keywords still carry the energy of every channel, in XUNITS.
        if (xPerChannel is null && xValues is { Length: > 1 } x && channels > 1)
        {
            xPerChannel = ((x[^1] - x[0]) / (channels - 1), null);
            offset = (x[0], null);
        }

        if (xPerChannel is not { } slope)
        {
            return null;
        }

        // A value's own unit (a "-keV" suffix on its keyword, or "40 eV") wins over #XUNITS, which names the x axis; with
        // neither, the unit is guessed as NeXLSpectrum does: a width below 0.1 per channel can only be keV (0.1 eV/channel
        // is no EDS/XRF detector).
        var gainKeV = EnergyScale(cursor, keywords, "XPERCHAN", slope.Unit) ?? axisKeV;
        if (gainKeV is null)
        {
            gainKeV = slope.Value < 0.1 ? 1.0 : 0.001;
            metadata["msa.XUNITS_ASSUMED"] = gainKeV == 1.0 ? "keV" : "eV";
        }

        keVPerUnit = axisKeV ?? gainKeV.Value;
        var gain = slope.Value * gainKeV.Value;
        double offsetKeV;
        if (offset is { } stated)
        {
            offsetKeV = stated.Value * (EnergyScale(cursor, keywords, "OFFSET", stated.Unit) ?? axisKeV ?? gainKeV.Value);
        }
        else
        {
            offsetKeV = Optional(cursor, keywords, "CHOFFSET") is { } zeroChannel ? -zeroChannel * gain : 0;
        }

        return new EnergyCalibration(offsetKeV, gain);
    }

    /// <summary>
    /// The unit <c>#XUNITS</c> names for the x axis: keV per unit (eV, keV, MeV, also inside words such as "Energy (keV)"),
    /// or a channel axis, or neither when it is absent or empty. Anything else is an error.
    /// </summary>
    private static (double? KeVPerUnit, bool Channels) AxisUnit(LineCursor cursor, Dictionary<string, Keyword> keywords)
    {
        if (!keywords.TryGetValue("XUNITS", out var units) || units.Value.Trim().Length == 0)
        {
            return (null, false);
        }

        var words = EnergyUnits.Words(units.Value);
        if (EnergyUnits.KeVPerUnitIn(words) is { } keVPerUnit)
        {
            return (keVPerUnit, false);
        }

        return words.Length > 0 && words.All(EnergyUnits.IsChannelWord)
            ? (null, true)
            : throw cursor.Error(units.Line, $"#XUNITS \"{FormatParsing.Shorten(units.Value)}\" is not an energy unit XrfEdge reads (eV or keV)");
    }

    /// <summary>keV per unit of an energy keyword's own unit (<c>eV</c>, <c>keV</c>, also "per channel" forms); null when it states none.</summary>
    private static double? EnergyScale(LineCursor cursor, Dictionary<string, Keyword> keywords, string keyword, string? unit) =>
        unit is null
            ? null
            : KeVPerUnit(keyword, unit)
                ?? throw cursor.Error(keywords[keyword].Line, $"#{keyword} unit \"{FormatParsing.Shorten(unit)}\" is not an energy unit XrfEdge reads (eV or keV)");

    /// <summary>keV per unit of <paramref name="unit"/> stated on <paramref name="keyword"/>, "per channel" forms allowed on XPERCHAN; null when no energy unit.</summary>
    private static double? KeVPerUnit(string keyword, string unit) =>
        EnergyUnits.KeVPerUnit(keyword == "XPERCHAN" ? WithoutPerChannel(unit) : unit);

    /// <summary>"eV/ch", "keV/channel" → "eV", "keV"; any other text unchanged.</summary>
    private static string WithoutPerChannel(string unit)
    {
        foreach (var perChannel in (ReadOnlySpan<string>)["/channel", "/chan", "/ch"])
        {
            if (unit.EndsWith(perChannel, StringComparison.OrdinalIgnoreCase))
            {
                return unit[..^perChannel.Length];
            }
        }

        return unit;
    }

    /// <summary>
    /// A keyword's number and the unit stated with it: the keyword's suffix (<c>#OFFSET -eV:</c>) or a word after the
    /// number (<c>#XPERCHAN : 10 eV</c>); both at once must agree. Null when the keyword is absent or empty.
    /// </summary>
    private static (double Value, string? Unit)? Quantity(LineCursor cursor, Dictionary<string, Keyword> keywords, string keyword)
    {
        if (!keywords.TryGetValue(keyword, out var entry) || entry.Value.Trim().Length == 0)
        {
            return null;
        }

        var text = entry.Value.Trim();
        string? inline = null;
        var space = text.LastIndexOf(' ');
        if (space > 0 && FormatParsing.TryNumber(text.AsSpan(0, space)) is not null && FormatParsing.TryNumber(text.AsSpan(space + 1)) is null)
        {
            inline = text[(space + 1)..];
            text = text[..space];
        }

        var value = FormatParsing.TryNumber(text)
            ?? throw cursor.Error(entry.Line, $"#{keyword} \"{FormatParsing.Shorten(entry.Value)}\" is not a number");
        // "#XPERCHAN -eV: 40 eV/ch" says eV twice; only two different units are a contradiction.
        if (inline is not null && entry.Unit.Length > 0 && !WithoutPerChannel(inline).Equals(WithoutPerChannel(entry.Unit), StringComparison.OrdinalIgnoreCase))
        {
            throw cursor.Error(entry.Line, $"#{keyword} states two units, \"{FormatParsing.Shorten(entry.Unit)}\" and \"{FormatParsing.Shorten(inline)}\"");
        }

        return (value, inline ?? (entry.Unit.Length > 0 ? entry.Unit : null));
    }

    /// <summary>
    /// A keyword's number in <paramref name="unitName"/>: <paramref name="scale"/> maps its stated unit (upper case) to a
    /// factor, or null for a unit it cannot use, which is an error rather than a value read in the wrong unit.
    /// </summary>
    private static double? Scaled(LineCursor cursor, Dictionary<string, Keyword> keywords, string keyword, string unitName, Func<string, double?> scale)
    {
        if (Quantity(cursor, keywords, keyword) is not { } quantity)
        {
            return null;
        }

        if (quantity.Unit is null)
        {
            return quantity.Value;
        }

        return scale(quantity.Unit.ToUpperInvariant()) is { } factor
            ? quantity.Value * factor
            : throw cursor.Error(keywords[keyword].Line, $"#{keyword} unit \"{FormatParsing.Shorten(quantity.Unit)}\" is not one XrfEdge reads ({unitName})");
    }

    private static double? Optional(LineCursor cursor, Dictionary<string, Keyword> keywords, string keyword)
    {
        if (!keywords.TryGetValue(keyword, out var entry) || entry.Value.Trim().Length == 0)
        {
            return null;
        }

        return FormatParsing.TryNumber(entry.Value)
            ?? throw cursor.Error(entry.Line, $"#{keyword} \"{FormatParsing.Shorten(entry.Value)}\" is not a number");
    }

    private static TimeSpan? Seconds(LineCursor cursor, Dictionary<string, Keyword> keywords, string keyword)
    {
        // EMSA/MAS gives times in seconds ("-s"); writers spell it out ("-seconds", "-sec") or give milliseconds ("-ms",
        // "-msec"), which are converted; any other unit is refused.
        var seconds = Scaled(cursor, keywords, keyword, "s or ms", unit => TimeUnits.SecondsPerUnit(unit));
        if (seconds is null)
        {
            return null;
        }

        return seconds >= 0
            ? FormatParsing.Seconds(cursor, keywords[keyword].Line, seconds.Value, "#" + keyword)
            : throw cursor.Error(keywords[keyword].Line, FormatParsing.Invariant($"#{keyword} {seconds} s is negative"));
    }

    /// <summary>"#LIVETIME  -s: 120.005" → ("LIVETIME", "120.005", "s"); user keywords "##FANO" → "#FANO"; no suffix → unit "".</summary>
    private static bool TrySplitKeyword(string line, out string keyword, out string value, out string unit)
    {
        keyword = string.Empty;
        value = string.Empty;
        unit = string.Empty;
        if (!line.StartsWith('#'))
        {
            return false;
        }

        var colon = line.IndexOf(':', StringComparison.Ordinal);
        var head = colon < 0 ? line[1..] : line[1..colon];
        value = colon < 0 ? string.Empty : line[(colon + 1)..].Trim();
        var dash = head.Length > 1 ? head.IndexOf('-', 1) : -1;
        keyword = (dash > 0 ? head[..dash] : head).Trim().ToUpper(CultureInfo.InvariantCulture);
        unit = dash > 0 ? head[(dash + 1)..].Trim() : string.Empty;
        return keyword.Length > 0;
    }

    /// <summary>One header keyword: its value, its line, and the unit suffix after its dash ("" when none).</summary>
    private readonly record struct Keyword(string Value, int Line, string Unit);
}

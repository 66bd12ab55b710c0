using System.Globalization;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Reads an ORTEC Maestro / IAEA ASCII spectrum (<c>.spe</c>): blocks that start with a <c>$NAME:</c> line.
/// <code>
/// $SPEC_ID:                 free text (kept as metadata spe.SPEC_ID)
/// $MEAS_TIM:
/// 296 300                   live real, seconds
/// $DATA:
/// 0 1023                    first and last channel number
///        0                  counts, one or more per line, (last − first + 1) values
/// $ENER_FIT:
/// -0.035087 0.182804        offset keV, keV/channel (optional trailing keV, eV or MeV, as in $MCA_CAL:)
/// $MCA_CAL:
/// 3                         number of coefficients
/// -3.5087E-002 1.828E-001 -6.866E-010 keV    c0 c1 c2: E(ch) = c0 + c1·ch + c2·ch², ch counted from 0
/// </code>
/// Source: ORTEC Software File Structure Manual via lbl-anp/becquerel <c>parsers/spe.py</c> and
/// sandialabs/SpecUtils <c>SpecFile_spe.cpp</c> (../shared/reference/mca-and-files.md §2.2).
/// <c>$MCA_CAL</c> takes precedence over <c>$ENER_FIT</c>; an all-zero calibration means "uncalibrated".
/// When <c>first</c> is not 0 the calibration is re-expressed for index 0 = channel <c>first</c>. Unknown
/// blocks are skipped.
/// </summary>
public static class SpeReader
{
    /// <summary>Reads the one spectrum of an <c>.spe</c> file; never throws for bad content.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="source">File name for ids and messages.</param>
    /// <param name="options">Fallback calibration for uncalibrated files.</param>
    public static SpectrumReadResult Read(TextReader reader, string source, SpectrumReadOptions? options = null)
        => FormatParsing.ReadSingle(reader, source, options, Parse);

    private static RawSpectrum Parse(LineCursor cursor, SpectrumReadOptions options)
    {
        var metadata = FormatParsing.SourceMetadata(cursor.Source, SpectrumFileFormat.Spe);
        long[]? counts = null;
        var firstChannel = 0;
        EnergyCalibration? enerFit = null;
        EnergyCalibration? mcaCal = null;
        var enerFitLine = 0;
        var mcaCalLine = 0;
        TimeSpan? live = null;
        TimeSpan? real = null;
        var timesLine = 0;
        var sawBlock = false;
        var clamp = options.NegativeCounts == NegativeCountHandling.ClampToZero;

        while (cursor.Next() is { } raw)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (!line.StartsWith('$'))
            {
                if (!sawBlock)
                {
                    throw cursor.Error($"not an .spe file: expected a $BLOCK: line such as $SPEC_ID:, found \"{FormatParsing.Shorten(line)}\"");
                }

                // Lines of a block we skip (e.g. $ROI entries, $PRESETS): ignore.
                continue;
            }

            sawBlock = true;
            var block = line.TrimEnd(':').TrimStart('$').ToUpperInvariant();
            var blockLine = cursor.LineNumber;
            CheckOnce(cursor, block, block switch
            {
                "MEAS_TIM" => timesLine,
                "ENER_FIT" => enerFitLine,
                "MCA_CAL" => mcaCalLine,
                _ => 0,
            });
            switch (block)
            {
                case "DATA":
                    if (counts is not null)
                    {
                        throw cursor.Error("a second $DATA: block; an .spe file holds one spectrum");
                    }

                    counts = ReadData(cursor, clamp, out firstChannel);
                    break;
                case "MEAS_TIM":
                    timesLine = blockLine;
                    var times = FormatParsing.Tokens(NextValueLine(cursor, "$MEAS_TIM:"));
                    if (times.Length != 2)
                    {
                        // More than two pieces is how comma decimals look ("29,5 30,0"), which read as live 29 s, real 5 s.
                        throw cursor.Error(FormatParsing.Invariant($"$MEAS_TIM: must give exactly two numbers, \"live real\" in seconds, found {times.Length} (comma decimals?)"));
                    }

                    live = NonNegativeSeconds(cursor, times[0], "live time");
                    real = NonNegativeSeconds(cursor, times[1], "real time");
                    break;
                case "ENER_FIT":
                    enerFitLine = blockLine;
                    var fit = WithoutUnit(cursor, FormatParsing.Tokens(NextValueLine(cursor, "$ENER_FIT:")), "$ENER_FIT:", out var fitKeVPerUnit);
                    enerFit = Polynomial(cursor, fit, "$ENER_FIT:", fitKeVPerUnit);
                    break;
                case "MCA_CAL":
                    mcaCalLine = blockLine;
                    mcaCal = McaCal(cursor);
                    break;
                case "SPEC_ID" or "SPEC_REM" or "DATE_MEA":
                    var text = cursor.Next();
                    if (text is not null && text.TrimStart().StartsWith('$'))
                    {
                        cursor.PushBack(text);
                    }
                    else if (text is not null)
                    {
                        metadata["spe." + block] = text.Trim();
                    }

                    break;
                default:
                    break;
            }
        }

        if (counts is null)
        {
            throw cursor.Error("missing $DATA: block: the file ends here without counts");
        }

        if (clamp)
        {
            FormatParsing.ClampNegatives(counts, metadata);
        }

        var fromFile = mcaCal ?? enerFit;
        var fromFileLine = mcaCal is not null ? mcaCalLine : enerFitLine;
        if (fromFile is not null)
        {
            fromFile = FormatParsing.Shift(fromFile, firstChannel);
        }

        var calibration = FormatParsing.ResolveCalibration(cursor, fromFile, fromFileLine, options, counts.Length, firstChannel);
        metadata["spe.FIRST_CHANNEL"] = firstChannel.ToString(CultureInfo.InvariantCulture);
        return new RawSpectrum
        {
            Id = FormatParsing.IdFromSource(cursor.Source),
            Counts = counts,
            Calibration = calibration,
            LiveTime = live,
            RealTime = real,
            Metadata = metadata,
        };
    }

    private static long[] ReadData(LineCursor cursor, bool allowNegative, out int firstChannel)
    {
        var rangeLine = cursor.LineNumber;
        var range = FormatParsing.Tokens(NextValueLine(cursor, "$DATA:"));
        if (range.Length != 2
            || !int.TryParse(range[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out firstChannel)
            || !int.TryParse(range[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var lastChannel))
        {
            throw cursor.Error("$DATA: must be followed by \"first last\" channel numbers");
        }

        var channels = (long)lastChannel - firstChannel + 1;
        if (firstChannel < 0 || channels < 0)
        {
            throw cursor.Error(FormatParsing.Invariant($"$DATA: channel range {firstChannel} to {lastChannel} is not a valid range"));
        }

        FormatParsing.CheckChannelCount(cursor, cursor.LineNumber, (int)Math.Min(channels, int.MaxValue));
        var counts = new long[channels];
        var read = 0;
        var lastCountLine = 0;
        var lastCountTerminated = true;
        var nextBlock = false;
        while (cursor.Next() is { } line)
        {
            if (line.AsSpan().TrimStart().StartsWith('$'))
            {
                cursor.PushBack(line);
                nextBlock = true;
                break;
            }

            foreach (var token in new TokenEnumerator(line))
            {
                lastCountLine = cursor.LineNumber;
                lastCountTerminated = cursor.LastLineTerminated;
                if (read == counts.Length)
                {
                    throw cursor.Error(FormatParsing.Invariant($"$DATA: holds more than the {channels} counts its range {firstChannel} {lastChannel} declares"));
                }

                counts[read] = FormatParsing.Count(cursor, token, firstChannel + read, allowNegative);
                read++;
            }
        }

        if (read < counts.Length)
        {
            throw cursor.Error(rangeLine, FormatParsing.Invariant($"$DATA: declares {channels} channels ({firstChannel} to {lastChannel}) but only {read} counts follow; the file is truncated"));
        }

        if (!nextBlock)
        {
            // $DATA: was the last block: the count check cannot see a cut inside the last count itself.
            FormatParsing.CheckLastCountComplete(cursor, lastCountLine, lastCountTerminated, "$BLOCK: line after it");
        }

        return counts;
    }

    /// <summary>
    /// <c>$MCA_CAL:</c> then the coefficient count (2 or 3 in practice) then the coefficients and an optional unit:
    /// <c>3</c> / <c>0.0 0.04 0.0 keV</c>. Anything else on the coefficient line is an error, not skipped.
    /// </summary>
    private static EnergyCalibration? McaCal(LineCursor cursor)
    {
        var countText = NextValueLine(cursor, "$MCA_CAL:");
        var declared = FormatParsing.Number(cursor, countText, "$MCA_CAL: coefficient count");
        if (declared != Math.Floor(declared) || declared is < 2 or > 10)
        {
            throw cursor.Error($"$MCA_CAL: coefficient count \"{FormatParsing.Shorten(countText.Trim())}\" is not a whole number from 2 to 10");
        }

        var tokens = WithoutUnit(cursor, FormatParsing.Tokens(NextValueLine(cursor, "$MCA_CAL:")), "$MCA_CAL:", out var keVPerUnit);
        if (tokens.Length != (int)declared)
        {
            throw cursor.Error(FormatParsing.Invariant($"$MCA_CAL: declares {declared} coefficients but the next line gives {tokens.Length} value(s)"));
        }

        return Polynomial(cursor, tokens, "$MCA_CAL:", keVPerUnit);
    }

    /// <summary>
    /// The coefficients of a calibration line without its optional trailing unit (<c>keV</c>, <c>eV</c> or <c>MeV</c>; keV when none),
    /// the same for <c>$MCA_CAL:</c> and <c>$ENER_FIT:</c>. Any other word there is an error, not skipped.
    /// </summary>
    private static string[] WithoutUnit(LineCursor cursor, string[] tokens, string block, out double keVPerUnit)
    {
        keVPerUnit = 1.0;
        if (tokens.Length == 0 || FormatParsing.TryNumber(tokens[^1]) is not null)
        {
            return tokens;
        }

        keVPerUnit = EnergyUnits.KeVPerUnit(tokens[^1])
            ?? throw cursor.Error($"{block} unit \"{FormatParsing.Shorten(tokens[^1])}\" is not keV, eV or MeV");
        return tokens[..^1];
    }

    /// <summary>
    /// Throws when a block the reader uses comes a second time (<paramref name="firstLine"/> &gt; 0): the last one used to win
    /// silently, so a file with two <c>$MCA_CAL:</c> blocks read whichever came last.
    /// </summary>
    private static void CheckOnce(LineCursor cursor, string block, int firstLine)
    {
        if (firstLine > 0)
        {
            throw cursor.Error(FormatParsing.Invariant($"a second ${block}: block (the first is at line {firstLine}); an .spe file states it once"));
        }
    }

    private static string NextValueLine(LineCursor cursor, string block)
    {
        var line = cursor.Next();
        if (line is null || line.TrimStart().StartsWith('$'))
        {
            throw cursor.Error($"{block} has no value line");
        }

        return line;
    }

    private static TimeSpan NonNegativeSeconds(LineCursor cursor, string text, string what)
    {
        var seconds = FormatParsing.Number(cursor, text, what);
        return seconds >= 0 ? FormatParsing.Seconds(cursor, cursor.LineNumber, seconds, what) : throw cursor.Error($"{what} {FormatParsing.Shorten(text)} s is negative");
    }

    /// <summary>c0 c1 [c2] → calibration in keV; null when all are zero (Maestro's "uncalibrated").</summary>
    private static EnergyCalibration? Polynomial(LineCursor cursor, string[] tokens, string block, double keVPerUnit = 1.0)
    {
        var values = tokens.Select(t => FormatParsing.Number(cursor, t, block + " coefficient") * keVPerUnit).ToArray();
        if (values.Length < 2)
        {
            throw cursor.Error($"{block} needs at least the offset and the gain, found {values.Length} number(s)");
        }

        if (values.Skip(3).Any(v => v != 0))
        {
            throw cursor.Error($"{block} has non-zero terms above quadratic, which XrfEdge does not model");
        }

        if (values.All(v => v == 0))
        {
            return null;
        }

        return new EnergyCalibration(values[0], values[1], values.Length > 2 ? values[2] : 0);
    }
}

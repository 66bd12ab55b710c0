using System.Globalization;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>Number parsing, channel-count and calibration rules shared by the text readers, so every format fails the same way.</summary>
internal static class FormatParsing
{
    // Integral doubles beyond 2^53 are no longer exact; no MCA channel holds that many counts.
    private const double MaxExactInteger = SpectrumJsonl.MaxTotalCounts;

    /// <summary>
    /// Runs a single-spectrum format's parser over <paramref name="reader"/> and turns its format error into a
    /// failure result naming the line, so a reader never throws for bad content.
    /// </summary>
    public static SpectrumReadResult ReadSingle(
        TextReader reader,
        string source,
        SpectrumReadOptions? options,
        Func<LineCursor, SpectrumReadOptions, RawSpectrum> parse)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(source);
        var cursor = new LineCursor(reader, source);
        try
        {
            var spectrum = parse(cursor, options ?? SpectrumReadOptions.Default);
            var totalProblem = SpectrumJsonl.CheckTotalCounts(spectrum.Counts);
            return totalProblem is null
                ? SpectrumReadResult.Success(source, 1, new LabelledSpectrum(spectrum))
                : SpectrumReadResult.Failure(source, 0, null, totalProblem);
        }
        catch (SpectrumFormatException ex)
        {
            return SpectrumReadResult.Failure(source, ex.LineNumber, null, ex.Problem);
        }
        catch (IOException ex)
        {
            // A read error (e.g. a removed USB stick) ends the file; report it where it happened.
            return SpectrumReadResult.Failure(source, cursor.LineNumber + 1, null, $"read failed: {ex.Message}");
        }
    }

    /// <summary>
    /// Throws when a data section holds more rows or values than any accepted spectrum (16384), before the
    /// rest of the file is buffered: a 10-million-row file fails at row 16385, not after 2 GB of parsing.
    /// </summary>
    /// <param name="cursor">For the error location.</param>
    /// <param name="channelsSoFar">Channels read so far, including the current one.</param>
    public static void CheckChannelsSoFar(LineCursor cursor, int channelsSoFar)
    {
        if (channelsSoFar > SpectrumJsonl.MaxChannels)
        {
            throw cursor.Error(Invariant($"more than {SpectrumJsonl.MaxChannels} channels; {SpectrumJsonl.MinChannels} to {SpectrumJsonl.MaxChannels} are accepted"));
        }
    }

    /// <summary>
    /// Most header entries (keys, configuration commands, status lines, keywords) a single-spectrum file may hold: 4096. A
    /// DppMCA file has about 150, an EMSA file about 30; each is kept as metadata, so without a limit a 64-MiB file of
    /// short distinct lines cost close to a gigabyte.
    /// </summary>
    public const int MaxHeaderEntries = 4096;

    /// <summary>Throws when <paramref name="entries"/> passes <see cref="MaxHeaderEntries"/>.</summary>
    /// <param name="cursor">For the error location.</param>
    /// <param name="entries">Header entries kept so far.</param>
    public static void CheckHeaderEntries(LineCursor cursor, int entries)
    {
        if (entries > MaxHeaderEntries)
        {
            throw cursor.Error(Invariant($"more than {MaxHeaderEntries} header entries; no spectrum file has that many, so this is not one"));
        }
    }

    /// <summary>
    /// Throws when the data section's last line ran to the end of the file with no end marker after it: a copy cut short
    /// there reads as a whole spectrum whose last count is wrong ("1234" cut to "12").
    /// </summary>
    /// <param name="cursor">For the file name.</param>
    /// <param name="lastCountLine">Line of the last count, 0 when there was none.</param>
    /// <param name="lastCountTerminated">Whether that line ended with a line break (<see cref="LineCursor.LastLineTerminated"/> just after it).</param>
    /// <param name="endMarker">The marker the format ends its data with, for the message.</param>
    public static void CheckLastCountComplete(LineCursor cursor, int lastCountLine, bool lastCountTerminated, string endMarker)
    {
        if (lastCountLine > 0 && !lastCountTerminated)
        {
            throw cursor.Error(lastCountLine, $"the file ends inside its last count: no line break after it and no {endMarker}, so it may have been cut short there");
        }
    }

    /// <summary>A live or real time in seconds, or an error naming <paramref name="what"/> when negative or beyond <see cref="SpectrumJsonl.MaxSeconds"/>.</summary>
    /// <param name="cursor">For the error location.</param>
    /// <param name="lineNumber">Line of the value.</param>
    /// <param name="seconds">The value read.</param>
    /// <param name="what">Name of the value in the file, for messages.</param>
    public static TimeSpan Seconds(LineCursor cursor, int lineNumber, double seconds, string what) =>
        seconds >= 0 && seconds <= SpectrumJsonl.MaxSeconds
            ? SpectrumJsonl.FromSecondsRounded(seconds)
            : throw cursor.Error(lineNumber, Invariant($"{what} {seconds} s is not a non-negative time below {SpectrumJsonl.MaxSeconds:E2} s"));

    /// <summary>Parses a finite invariant-culture number, or null.</summary>
    public static double? TryNumber(ReadOnlySpan<char> text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : null;

    /// <summary>
    /// Half a unit in the last written digit of a number's text, the most its rounding to that text can have moved it:
    /// 0.00005 for "12.3456", 0.005 for "1.23456e+03", 0.5 for "12". Used as the tolerance a value carries from being
    /// written with few digits (SpecUtils writes energies as C++ streams do, 6 significant figures).
    /// </summary>
    public static double HalfLastDigit(ReadOnlySpan<char> text)
    {
        var t = text.Trim();
        var exponent = 0;
        var e = t.IndexOfAny('e', 'E');
        if (e >= 0)
        {
            if (!int.TryParse(t[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent))
            {
                return 0;
            }

            t = t[..e];
        }

        var dot = t.IndexOf('.');
        var decimals = dot < 0 ? 0 : t.Length - dot - 1;
        return 0.5 * Math.Pow(10, exponent - decimals);
    }

    /// <summary>Parses a number or throws naming <paramref name="what"/>.</summary>
    public static double Number(LineCursor cursor, ReadOnlySpan<char> text, string what) =>
        TryNumber(text) ?? throw cursor.Error($"{what} \"{Shorten(text)}\" is not a number{DecimalCommaHint(text)}");

    /// <summary>
    /// A hint for a number written with one comma ("0,02" as European spreadsheets export it, or "12,000" grouped), else
    /// empty. The comma is never read as a decimal mark: the two cannot be told apart.
    /// </summary>
    public static string DecimalCommaHint(ReadOnlySpan<char> text)
    {
        var trimmed = text.Trim();
        var comma = trimmed.IndexOf(',');
        return comma > 0
            && comma < trimmed.Length - 1
            && trimmed[(comma + 1)..].IndexOf(',') < 0
            && TryNumber(string.Concat(trimmed[..comma], ".", trimmed[(comma + 1)..])) is not null
            ? "; XrfEdge reads '.' as the decimal mark and no digit grouping, so export the file without decimal commas or thousands separators"
            : string.Empty;
    }

    /// <summary>
    /// Parses one channel count: a non-negative integer; integral decimals such as "12.0" (EMSA writers) are accepted.
    /// </summary>
    /// <param name="cursor">For the error location.</param>
    /// <param name="token">The text of the count.</param>
    /// <param name="channel">Channel index, for messages.</param>
    /// <param name="allowNegative">Return negative values (to be clamped by <see cref="ClampNegatives"/>) instead of failing.</param>
    public static long Count(LineCursor cursor, ReadOnlySpan<char> token, int channel, bool allowNegative = false)
    {
        var text = token.Trim();
        if (text.Contains('\0'))
        {
            // .NET's number parsing ignores trailing NULs ("5\0" parses as 5); a NUL in a text file means corruption.
            throw cursor.Error(Invariant($"count of channel {channel} holds a NUL character; the file is corrupt"));
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            if (integer is > SpectrumJsonl.MaxTotalCounts or < -SpectrumJsonl.MaxTotalCounts)
            {
                throw cursor.Error(Invariant($"count of channel {channel} is {integer}, above 2^53; no MCA channel holds that many counts"));
            }

            return integer >= 0 || allowNegative
                ? integer
                : throw cursor.Error(Invariant($"count of channel {channel} is {integer}; counts must be non-negative integers"));
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
        {
            throw cursor.Error(Invariant($"count of channel {channel} is \"{Shorten(text)}\", not a number{DecimalCommaHint(text)}"));
        }

        if (number < 0 && !allowNegative)
        {
            throw cursor.Error(Invariant($"count of channel {channel} is {Shorten(text)}; counts must be non-negative integers"));
        }

        if (Math.Abs(number) > MaxExactInteger)
        {
            throw cursor.Error(Invariant($"count of channel {channel} is {Shorten(text)}, above 2^53; no MCA channel holds that many counts"));
        }

        if (number != Math.Floor(number))
        {
            throw cursor.Error(Invariant($"count of channel {channel} is {Shorten(text)}, not an integer; raw MCA counts are whole numbers"));
        }

        return (long)number;
    }

    /// <summary>Sets negative counts to 0 and records how many channels and how much was removed in <paramref name="metadata"/>.</summary>
    public static void ClampNegatives(long[] counts, Dictionary<string, string> metadata)
    {
        var channels = 0;
        long sum = 0;
        for (var channel = 0; channel < counts.Length; channel++)
        {
            if (counts[channel] < 0)
            {
                channels++;
                sum += counts[channel];
                counts[channel] = 0;
            }
        }

        if (channels > 0)
        {
            metadata["clamped_negative_channels"] = channels.ToString(CultureInfo.InvariantCulture);
            metadata["clamped_negative_sum"] = sum.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Throws unless <paramref name="channelCount"/> is within the accepted 64–16384.</summary>
    public static void CheckChannelCount(LineCursor cursor, int lineNumber, int channelCount)
    {
        var problem = SpectrumJsonl.CheckChannelCount(channelCount);
        if (problem is not null)
        {
            throw cursor.Error(lineNumber, channelCount == 0 ? "no channels: the data section is empty" : "spectrum " + problem);
        }
    }

    /// <summary>
    /// The calibration to use: the file's, else the caller's fallback, else an error. Either one must pass
    /// <see cref="EnergyCalibration.Validate"/> for the channel count. A file's "energy = channel number" placeholder
    /// (0 + 1 keV/channel) gives way to the fallback.
    /// </summary>
    /// <param name="cursor">For the file name.</param>
    /// <param name="fromFile">The file's calibration, or null when it has none.</param>
    /// <param name="fileCalibrationLine">Where the file's calibration is (for messages).</param>
    /// <param name="options">Reader options holding the fallback.</param>
    /// <param name="channelCount">Number of channels read.</param>
    /// <param name="firstChannel">MCA channel number of the first count (SPE <c>$DATA: first last</c>); the fallback refers to channel numbers.</param>
    public static EnergyCalibration ResolveCalibration(
        LineCursor cursor,
        EnergyCalibration? fromFile,
        int fileCalibrationLine,
        SpectrumReadOptions options,
        int channelCount,
        int firstChannel = 0)
    {
        // "Energy = channel number" (0 + 1·c keV) is what MCA software writes when nothing was calibrated: the command
        // line's calibration replaces it as it replaces a missing one, and alone it is refused as what it is, whatever
        // the channel count. No XRF detector is read at 1 keV/channel (a line is 0.12–0.2 keV wide), so the model grid
        // would be the first 30 channels, whatever the MCA measured there: until 2026-11-24 a file of up to 1000 such
        // channels was identified (a random-count probe reported Te at 0.98 with coverage "full"), and a longer one was
        // refused with the hint for a unit mix-up.
        var placeholder = fromFile is { OffsetKeV: 0, GainKeVPerChannel: 1, QuadraticKeVPerChannel2: 0 };
        if (placeholder && options.FallbackCalibration is null)
        {
            throw cursor.Error(
                fileCalibrationLine,
                Invariant($"the file's energy calibration is the 'energy = channel number' placeholder of an uncalibrated MCA (0 + 1 keV/channel over {channelCount} channels: no XRF detector is read at 1 keV/channel); give the calibration with --offset-kev and --gain-kev-per-channel"));
        }

        if (fromFile is not null && !placeholder)
        {
            var problem = fromFile.Validate(channelCount);
            return problem is null ? fromFile : throw cursor.Error(fileCalibrationLine, "absurd energy calibration: " + problem);
        }

        if (options.FallbackCalibration is { } fallback)
        {
            var shifted = Shift(fallback, firstChannel);
            var problem = shifted.Validate(channelCount);
            return problem is null ? shifted : throw cursor.Error(0, "the calibration given on the command line is unusable: " + problem);
        }

        throw cursor.Error(0, "the file has no energy calibration; give one with --offset-kev and --gain-kev-per-channel");
    }

    /// <summary>Re-expresses a calibration in channel numbers <c>c − first</c>: E(c) = o + g·c + q·c², c = i + first.</summary>
    public static EnergyCalibration Shift(EnergyCalibration calibration, int firstChannel) =>
        firstChannel == 0
            ? calibration
            : new EnergyCalibration(
                calibration.EnergyKeV(firstChannel),
                calibration.GainKeVPerChannel + (2 * calibration.QuadraticKeVPerChannel2 * firstChannel),
                calibration.QuadraticKeVPerChannel2);

    /// <summary>
    /// Fits E(channel) to (channel, energy keV) points: a line through two points, a least-squares quadratic
    /// through three or more (DppMCA's rule per the Amptek file-format page; a quadratic term below 1e-12
    /// keV/ch² is dropped as rounding).
    /// </summary>
    /// <returns>The calibration, or null with <paramref name="problem"/> set when the points cannot define one.</returns>
    public static EnergyCalibration? Fit(IReadOnlyList<(double Channel, double EnergyKeV)> points, out string? problem)
    {
        problem = null;
        if (points.Count < 2)
        {
            problem = Invariant($"{points.Count} calibration point(s); at least 2 are needed");
            return null;
        }

        // With two distinct channels the line runs through the first point of each, so a second, different energy for a
        // channel was dropped unseen; with more it was averaged in. A repeated identical point is harmless.
        foreach (var group in points.GroupBy(p => p.Channel))
        {
            var energies = group.Select(p => p.EnergyKeV).Distinct().Take(2).ToArray();
            if (energies.Length > 1)
            {
                problem = Invariant($"calibration points give channel {group.Key} two energies, {energies[0]} and {energies[1]} keV");
                return null;
            }
        }

        var distinctChannels = points.Select(p => p.Channel).Distinct().Count();
        if (distinctChannels < 2)
        {
            problem = "calibration points all name the same channel, so they define no slope";
            return null;
        }

        if (distinctChannels == 2)
        {
            var (c0, e0) = points[0];
            var (c1, e1) = points.First(p => p.Channel != c0);
            var gain = (e1 - e0) / (c1 - c0);
            return new EnergyCalibration(e0 - (gain * c0), gain);
        }

        // Least squares in the scaled variable x = c / scale keeps the normal equations well conditioned up to 16384 channels.
        var scale = points.Max(p => Math.Abs(p.Channel));
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0;
        foreach (var (channel, energy) in points)
        {
            var x = channel / scale;
            var x2 = x * x;
            s0 += 1;
            s1 += x;
            s2 += x2;
            s3 += x2 * x;
            s4 += x2 * x2;
            t0 += energy;
            t1 += energy * x;
            t2 += energy * x2;
        }

        var det = Det3(s0, s1, s2, s1, s2, s3, s2, s3, s4);
        if (Math.Abs(det) < 1e-15)
        {
            problem = "calibration points are degenerate (a quadratic through them is not unique)";
            return null;
        }

        var a = Det3(t0, s1, s2, t1, s2, s3, t2, s3, s4) / det;
        var b = Det3(s0, t0, s2, s1, t1, s3, s2, t2, s4) / det;
        var c = Det3(s0, s1, t0, s1, s2, t1, s2, s3, t2) / det;
        var quadratic = c / (scale * scale);
        return new EnergyCalibration(a, b / scale, Math.Abs(quadratic) < 1e-12 ? 0 : quadratic);
    }

    private static double Det3(double a, double b, double c, double d, double e, double f, double g, double h, double i) =>
        (a * ((e * i) - (f * h))) - (b * ((d * i) - (f * g))) + (c * ((d * h) - (e * g)));

    /// <summary>Splits on commas, semicolons, tabs and spaces, dropping empty pieces (EMSA allows "1, 2," and "1 2").</summary>
    public static string[] Tokens(string line) =>
        line.Split([',', ';', '\t', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// A fragment of untrusted text short enough for an error message, with control characters written as <c>\uXXXX</c>:
    /// errors go to the operator's terminal and log, where an ESC sequence from a file could retitle or clear the screen.
    /// </summary>
    public static string Shorten(ReadOnlySpan<char> text) => SpectrumJsonl.Quotable(text);

    /// <summary>Formats with the invariant culture.</summary>
    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Metadata common to every reader: where the spectrum came from.</summary>
    public static Dictionary<string, string> SourceMetadata(string source, SpectrumFileFormat format) => new(StringComparer.Ordinal)
    {
        ["source"] = source,
        ["format"] = format.ToString(),
    };

    /// <summary>The spectrum id of a single-spectrum file: its file name without extension.</summary>
    public static string IdFromSource(string source)
    {
        var name = Path.GetFileNameWithoutExtension(source);
        return string.IsNullOrWhiteSpace(name) ? source : name;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Spectra.Interchange;

/// <summary>
/// Reader and writer of the <c>.jsonl</c> spectra interchange format: one JSON object per line, UTF-8,
/// <c>\n</c>-separated (<c>../shared/reference/spectra-jsonl.md</c>; docs/spectrum-files.md).
/// <code>
/// {"id":"h-000001","counts":[0,3,5,…],"calibration":{"offset_kev":-0.012,"gain_kev_per_channel":0.0149},
///  "live_time_s":10.0,"real_time_s":10.4,"excitation":{"anode":"Rh","kv":40,"ua":20},
///  "elements":["Fe"],"lines":["Fe-KL3"],"ignore_elements":["Rh","Ar"],"elements_in_sample":["Fe","C"],
///  "metadata":{"profile":"handheld-sdd"}}
/// </code>
/// The reader streams: it yields one <see cref="SpectrumReadResult"/> per non-blank line, and a bad line
/// (invalid JSON, missing field, negative or non-integer count, bad calibration, duplicate id) yields an
/// error naming the file, the line number and the problem, then reading goes on. Unknown fields are
/// ignored so that producers may add fields. The writer uses invariant, round-trip number formatting.
/// </summary>
public static class SpectrumJsonl
{
    /// <summary>Fewest channels accepted: 64 (the format's stated range).</summary>
    public const int MinChannels = 64;

    /// <summary>Most channels accepted: 16384 (the largest Amptek MCAC setting is 8192; 16384 leaves room).</summary>
    public const int MaxChannels = 16384;

    /// <summary>Longest line accepted, characters: 4 Mi, far above 16384 channels × 20 digits.</summary>
    public const int MaxLineLength = 4 * 1024 * 1024;

    /// <summary>
    /// Most counts a spectrum may hold in all, and so in one channel: 2^53, the largest integer a double holds
    /// exactly (the rebinner and the model work in floating point). A real MCA stays many decades below it
    /// (16384 channels of 32-bit counters hold under 2^46); a file above it is corrupt, and its total would
    /// otherwise wrap around silently.
    /// </summary>
    public const long MaxTotalCounts = 1L << 53;

    // Integral doubles beyond 2^53 are no longer exact; counts that large are not physical anyway.
    private const double MaxExactInteger = MaxTotalCounts;

    // A key given twice ("elements":["Fe"],…,"elements":["Cu"]) has no meaning the format defines; JsonDocument would
    // silently keep one of them, so a corrupt or hand-merged line would score against the wrong truth or spectrum.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Element symbols and ids are ASCII; relaxed escaping keeps "°C" or "+" in metadata readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    /// <summary>Reads every line of the file at <paramref name="path"/>; see <see cref="Read(TextReader, string)"/>.</summary>
    /// <remarks>A file that cannot be opened yields a single error result (line 0) rather than throwing.</remarks>
    public static IEnumerable<SpectrumReadResult> ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        StreamReader reader;
        try
        {
            reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [SpectrumReadResult.Failure(path, 0, null, $"cannot open file: {ex.Message}")];
        }

        return ReadAndDispose(reader, path);
    }

    /// <summary>
    /// Reads spectra line by line from <paramref name="reader"/>. Blank lines are skipped. Each other line
    /// yields a spectrum or an error; an error never stops the file.
    /// </summary>
    /// <param name="reader">The text, UTF-8 decoded.</param>
    /// <param name="source">The file name used in error messages.</param>
    public static IEnumerable<SpectrumReadResult> Read(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(source);
        return ReadIterator(reader, source);
    }

    /// <summary>Parses one line of the format (no location in the problem text).</summary>
    /// <param name="line">One JSON object.</param>
    /// <param name="spectrum">The spectrum when the line is valid.</param>
    /// <param name="id">The id, when it could be read (also on failure).</param>
    /// <param name="problem">What is wrong when the line is invalid.</param>
    /// <returns>True when <paramref name="spectrum"/> was read.</returns>
    public static bool TryParseLine(string line, out LabelledSpectrum? spectrum, out string? id, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(line);
        spectrum = null;
        id = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, DocumentOptions);
        }
        catch (JsonException ex)
        {
            problem = $"not valid JSON ({FirstSentence(ex.Message)})";
            return false;
        }
        catch (ArgumentException)
        {
            // JsonDocument.Parse(string) transcodes to UTF-8 first; an unpaired surrogate cannot be transcoded.
            problem = "not valid text: the line holds an unpaired UTF-16 surrogate";
            return false;
        }

        using (document)
        {
            try
            {
                problem = Parse(document.RootElement, out spectrum, out id);
            }
            catch (InvalidOperationException)
            {
                // GetString() refuses a string whose \u escapes form an unpaired surrogate ("\ud800").
                spectrum = null;
                problem = "a string holds an invalid \\u escape (an unpaired UTF-16 surrogate)";
            }

            return problem is null;
        }
    }

    /// <summary>Formats <paramref name="spectrum"/> as one line of the format (without the trailing newline).</summary>
    /// <exception cref="ArgumentException">The spectrum would not read back: channel count outside 64–16384, negative counts, unusable calibration,
    /// a time, tube voltage, current or anode the reader refuses, or a label that is not an element symbol or line name.</exception>
    public static string ToJsonLine(LabelledSpectrum spectrum)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        WriteJson(buffer, spectrum);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes <paramref name="spectrum"/> as one line (with <c>\n</c>) to <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">The spectrum would not read back (see <see cref="ToJsonLine"/>).</exception>
    public static void Write(TextWriter writer, LabelledSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(ToJsonLine(spectrum));
        writer.Write('\n');
    }

    /// <summary>Writes <paramref name="spectrum"/> as one UTF-8 line (with <c>\n</c>) to <paramref name="utf8Stream"/>.</summary>
    /// <exception cref="ArgumentException">The spectrum would not read back (see <see cref="ToJsonLine"/>).</exception>
    public static void Write(Stream utf8Stream, LabelledSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(utf8Stream);
        var buffer = new ArrayBufferWriter<byte>(4096);
        WriteJson(buffer, spectrum);
        utf8Stream.Write(buffer.WrittenSpan);
        utf8Stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// Writes <paramref name="spectrum"/> as one UTF-8 line (with <c>\n</c>) like <see cref="Write(Stream, LabelledSpectrum)"/>,
    /// except that its calibration is written as it is even when <see cref="Calibration.EnergyCalibration.Validate"/>
    /// refuses it (a non-finite value as a JSON string, "NaN", "Infinity"): for an export of stored data, which must not
    /// drop a measurement because its calibration is outside today's limits. The reader refuses such a line, naming its
    /// calibration; the caller marks the record (a metadata key) so that a person sees why. Since 2026-11-24.
    /// </summary>
    /// <exception cref="ArgumentException">The spectrum would not read back for another reason (see <see cref="ValidateExceptCalibration"/>).</exception>
    public static void WriteAsStored(Stream utf8Stream, LabelledSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(utf8Stream);
        var buffer = new ArrayBufferWriter<byte>(4096);
        WriteJson(buffer, spectrum, checkCalibration: false);
        utf8Stream.Write(buffer.WrittenSpan);
        utf8Stream.WriteByte((byte)'\n');
    }

    /// <summary>Writes all <paramref name="spectra"/> to a new file at <paramref name="path"/> (overwritten).</summary>
    /// <returns>The number of spectra written.</returns>
    public static int WriteFile(string path, IEnumerable<LabelledSpectrum> spectra)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(spectra);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var count = 0;
        foreach (var spectrum in spectra)
        {
            Write(stream, spectrum);
            count++;
        }

        return count;
    }

    /// <summary>
    /// Checks that <paramref name="spectrum"/> satisfies the format as the reader checks it: 64–16384 channels,
    /// non-negative counts adding up to at most <see cref="MaxTotalCounts"/>, a usable calibration, a non-empty id,
    /// times within 0–<see cref="MaxSeconds"/>, an excitation with a symbol for the anode, a plausible tube voltage and a
    /// non-negative current. The labels are checked by <see cref="ValidateLabels"/>.
    /// </summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong.</returns>
    public static string? Validate(RawSpectrum spectrum)
    {
        if (ValidateExceptCalibration(spectrum) is { } problem)
        {
            return problem;
        }

        var calibration = spectrum.Calibration.Validate(spectrum.Counts.Length);
        return calibration is null ? null : "calibration: " + calibration;
    }

    /// <summary>Everything <see cref="Validate"/> checks but the calibration (for <see cref="WriteAsStored"/>).</summary>
    /// <returns><see langword="null"/> when valid, otherwise what is wrong.</returns>
    public static string? ValidateExceptCalibration(RawSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        if (string.IsNullOrWhiteSpace(spectrum.Id))
        {
            return "id is empty";
        }

        var problem = CheckChannelCount(spectrum.Counts.Length);
        if (problem is not null)
        {
            return problem;
        }

        for (var channel = 0; channel < spectrum.Counts.Length; channel++)
        {
            if (spectrum.Counts[channel] < 0)
            {
                return Invariant($"counts[{channel}] is {spectrum.Counts[channel]}; counts must be non-negative integers");
            }
        }

        if (spectrum.LiveTime is { } live && (live < TimeSpan.Zero || live.TotalSeconds > MaxSeconds))
        {
            return Invariant($"live time {live.TotalSeconds} s is outside 0–{MaxSeconds} s");
        }

        if (spectrum.RealTime is { } real && (real < TimeSpan.Zero || real.TotalSeconds > MaxSeconds))
        {
            return Invariant($"real time {real.TotalSeconds} s is outside 0–{MaxSeconds} s");
        }

        var total = CheckTotalCounts(spectrum.Counts);
        if (total is not null)
        {
            return total;
        }

        if (spectrum.Excitation is { } excitation)
        {
            if (excitation.Anode is { } anode && !IsElementSymbol(anode))
            {
                return $"excitation anode \"{anode}\" is not an element symbol";
            }

            if (excitation.TubeVoltageKilovolts is { } kv && Excitation.CheckTubeVoltage(kv) is { } voltage)
            {
                return "excitation: " + voltage;
            }

            if (excitation.TubeCurrentMicroamperes is { } ua && !(ua >= 0 && double.IsFinite(ua)))
            {
                return Invariant($"excitation tube current {ua} µA is negative or not finite");
            }
        }

        return null;
    }

    /// <summary>
    /// Checks the ground-truth lists of <paramref name="spectrum"/> as the reader does: element symbols, and line names
    /// <c>"&lt;Symbol&gt;-&lt;IUPAC&gt;"</c>; <see langword="null"/> when they would read back.
    /// </summary>
    public static string? ValidateLabels(LabelledSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        foreach (var (name, symbols) in new[] { ("elements", spectrum.Elements), ("ignore_elements", spectrum.IgnoreElements), ("elements_in_sample", spectrum.ElementsInSample) })
        {
            if (symbols?.FirstOrDefault(symbol => !IsElementSymbol(symbol)) is { } bad)
            {
                return $"{name} holds \"{Shorten(bad)}\", which is not an element symbol (e.g. \"Fe\")";
            }
        }

        if (spectrum.Lines?.FirstOrDefault(line => !IsLineName(line)) is { } badLine)
        {
            return $"lines holds \"{Shorten(badLine)}\", which is not a line name \"<Symbol>-<IUPAC>\" (e.g. \"Fe-KL3\")";
        }

        return null;
    }

    /// <summary>
    /// Longest live or real time accepted, seconds: half of what <see cref="TimeSpan"/> holds (±29,000 years), so that
    /// conversion never saturates; a week is already far beyond any XRF acquisition. Every reader applies it.
    /// </summary>
    public static readonly double MaxSeconds = TimeSpan.MaxValue.TotalSeconds / 2;

    /// <summary>
    /// Seconds to a <see cref="TimeSpan"/> rounded to the nearest tick. <see cref="TimeSpan.FromSeconds(double)"/>
    /// truncates, so 0.043 s (stored as 0.04299999…) would come back one tick short and a write/read round trip would drift.
    /// </summary>
    public static TimeSpan FromSecondsRounded(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));

    /// <summary>
    /// Checks that the counts add up to at most <see cref="MaxTotalCounts"/>; <see langword="null"/> when they do,
    /// else a sentence naming the first channel where the running total passes it.
    /// </summary>
    /// <param name="counts">Non-negative counts per channel.</param>
    public static string? CheckTotalCounts(ReadOnlySpan<long> counts)
    {
        long total = 0;
        for (var channel = 0; channel < counts.Length; channel++)
        {
            // Both terms are ≤ 2^53 here, so the sum cannot overflow a long before the check.
            if (counts[channel] > MaxTotalCounts || (total += counts[channel]) > MaxTotalCounts)
            {
                return Invariant($"counts add up to more than 2^53 ({MaxTotalCounts}) by channel {channel}; no MCA holds that many, so the file is corrupt");
            }
        }

        return null;
    }

    /// <summary>Checks a channel count against 64–16384; <see langword="null"/> when in range.</summary>
    public static string? CheckChannelCount(int channelCount) =>
        channelCount is < MinChannels or > MaxChannels
            ? Invariant($"has {channelCount} channels; {MinChannels} to {MaxChannels} are accepted")
            : null;

    private static IEnumerable<SpectrumReadResult> ReadAndDispose(StreamReader reader, string source)
    {
        using (reader)
        {
            foreach (var result in ReadIterator(reader, source))
            {
                yield return result;
            }
        }
    }

    private static IEnumerable<SpectrumReadResult> ReadIterator(TextReader reader, string source)
    {
        // The file is streamed without a size limit, so ids are remembered by a 128-bit digest, not whole: kept whole, a
        // file of long ids grew the set by the size of the file.
        var seenIds = new HashSet<UInt128>();
        var lines = new BoundedLineReader(reader, MaxLineLength);
        var lineNumber = 0;
        while (true)
        {
            string? line;
            long tooLong = 0;
            string? readError = null;
            try
            {
                line = lines.ReadLine(out tooLong);
            }
            catch (IOException ex)
            {
                // A read error (e.g. a removed USB stick) ends the file; report it where it happened.
                line = null;
                readError = $"read failed: {ex.Message}";
            }

            if (readError is not null)
            {
                yield return SpectrumReadResult.Failure(source, lineNumber + 1, null, readError);
                yield break;
            }

            if (line is null)
            {
                yield break;
            }

            lineNumber++;
            if (tooLong > 0)
            {
                yield return SpectrumReadResult.Failure(source, lineNumber, null, Invariant($"line is {tooLong} characters long; at most {MaxLineLength} are accepted (a file without line breaks is not .jsonl)"));
                continue;
            }

            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (!TryParseLine(line, out var spectrum, out var id, out var problem))
            {
                yield return SpectrumReadResult.Failure(source, lineNumber, id, problem!);
                continue;
            }

            if (!seenIds.Add(IdDigest(id!)))
            {
                yield return SpectrumReadResult.Failure(source, lineNumber, id, $"id \"{Shorten(id!)}\" was already used earlier in the file; ids must be unique");
                continue;
            }

            var withSource = spectrum! with
            {
                Spectrum = spectrum.Spectrum with { Metadata = WithSource(spectrum.Spectrum.Metadata, source, lineNumber) },
            };
            yield return SpectrumReadResult.Success(source, lineNumber, withSource);
        }
    }

    /// <summary>The first 128 bits of the SHA-256 of <paramref name="id"/>: a repeat is found, a different id collides with odds of 2^-128.</summary>
    private static UInt128 IdDigest(string id)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(id.AsSpan()), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private static Dictionary<string, string> WithSource(IReadOnlyDictionary<string, string> metadata, string source, int lineNumber)
    {
        var result = new Dictionary<string, string>(metadata, StringComparer.Ordinal)
        {
            ["source"] = source,
            ["source_line"] = lineNumber.ToString(CultureInfo.InvariantCulture),
            ["format"] = "jsonl",
        };
        return result;
    }

    private static string? Parse(JsonElement root, out LabelledSpectrum? spectrum, out string? id)
    {
        spectrum = null;
        id = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return $"expected a JSON object, found {Describe(root.ValueKind)}";
        }

        if (!root.TryGetProperty("id", out var idElement))
        {
            return "missing field \"id\"";
        }

        if (idElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(idElement.GetString()))
        {
            return "field \"id\" must be a non-empty string";
        }

        id = idElement.GetString()!;

        if (!root.TryGetProperty("counts", out var countsElement))
        {
            return "missing field \"counts\"";
        }

        var problem = ParseCounts(countsElement, out var counts);
        if (problem is not null)
        {
            return problem;
        }

        if (!root.TryGetProperty("calibration", out var calibrationElement))
        {
            return "missing field \"calibration\"";
        }

        problem = ParseCalibration(calibrationElement, counts!.Length, out var calibration);
        if (problem is not null)
        {
            return problem;
        }

        // Each parser reports the first problem of its field; the first field with a problem wins.
        string?[] problems =
        [
            ParseSeconds(root, "live_time_s", out var liveTime),
            ParseSeconds(root, "real_time_s", out var realTime),
            ParseExcitation(root, out var excitation),
            ParseMetadata(root, out var metadata),
            ParseSymbols(root, "elements", out var elements),
            ParseSymbols(root, "ignore_elements", out var ignore),
            ParseSymbols(root, "elements_in_sample", out var inSample),
            ParseLines(root, out var lines),
        ];
        problem = Array.Find(problems, p => p is not null);
        if (problem is not null)
        {
            return problem;
        }

        var raw = new RawSpectrum
        {
            Id = id,
            Counts = counts,
            Calibration = calibration!,
            LiveTime = liveTime,
            RealTime = realTime,
            Excitation = excitation,
            Metadata = metadata!,
        };
        spectrum = new LabelledSpectrum(raw)
        {
            Elements = elements,
            Lines = lines,
            IgnoreElements = ignore,
            ElementsInSample = inSample,
        };
        return null;
    }

    private static string? ParseCounts(JsonElement element, out long[]? counts)
    {
        counts = null;
        if (element.ValueKind != JsonValueKind.Array)
        {
            return $"field \"counts\" must be an array of non-negative integers, found {Describe(element.ValueKind)}";
        }

        var length = element.GetArrayLength();
        var channelProblem = CheckChannelCount(length);
        if (channelProblem is not null)
        {
            return "counts " + channelProblem;
        }

        var result = new long[length];
        var channel = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number)
            {
                return Invariant($"counts[{channel}] is {Describe(item.ValueKind)}, not a number");
            }

            if (item.TryGetInt64(out var value))
            {
                if (value < 0)
                {
                    return Invariant($"counts[{channel}] is {value}; counts must be non-negative integers");
                }

                result[channel++] = value;
                continue;
            }

            // Accept integral floats ("12.0", "1e3") that some writers (NumPy float arrays) produce.
            if (!item.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                return Invariant($"counts[{channel}] is {Shorten(item.GetRawText())}, not a finite number");
            }

            if (number < 0)
            {
                return Invariant($"counts[{channel}] is {Shorten(item.GetRawText())}; counts must be non-negative integers");
            }

            if (number != Math.Floor(number) || number > MaxExactInteger)
            {
                return Invariant($"counts[{channel}] is {Shorten(item.GetRawText())}, not an integer; counts are raw MCA counts");
            }

            result[channel++] = (long)number;
        }

        var totalProblem = CheckTotalCounts(result);
        if (totalProblem is not null)
        {
            return totalProblem;
        }

        counts = result;
        return null;
    }

    private static string? ParseCalibration(JsonElement element, int channelCount, out EnergyCalibration? calibration)
    {
        calibration = null;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"field \"calibration\" must be an object with offset_kev and gain_kev_per_channel, found {Describe(element.ValueKind)}";
        }

        string?[] problems =
        [
            RequiredNumber(element, "offset_kev", "calibration.offset_kev", out var offset),
            RequiredNumber(element, "gain_kev_per_channel", "calibration.gain_kev_per_channel", out var gain),
            OptionalNumber(element, "quadratic_kev_per_channel2", "calibration.quadratic_kev_per_channel2", out var quadratic),
        ];
        var problem = Array.Find(problems, p => p is not null);
        if (problem is not null)
        {
            return problem;
        }

        var candidate = new EnergyCalibration(offset, gain, quadratic ?? 0);
        var invalid = candidate.Validate(channelCount);
        if (invalid is not null)
        {
            return "bad calibration: " + invalid;
        }

        calibration = candidate;
        return null;
    }

    private static string? ParseSeconds(JsonElement root, string name, out TimeSpan? time)
    {
        time = null;
        var problem = OptionalNumber(root, name, name, out var seconds);
        if (problem is not null || seconds is null)
        {
            return problem;
        }

        if (seconds < 0 || seconds > MaxSeconds)
        {
            return Invariant($"field \"{name}\" is {seconds}; a time must be a non-negative number of seconds");
        }

        time = FromSecondsRounded(seconds.Value);
        return null;
    }

    private static string? ParseExcitation(JsonElement root, out Excitation? excitation)
    {
        excitation = null;
        if (!root.TryGetProperty("excitation", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"field \"excitation\" must be an object like {{\"anode\":\"Rh\",\"kv\":40,\"ua\":20}}, found {Describe(element.ValueKind)}";
        }

        string? anode = null;
        if (element.TryGetProperty("anode", out var anodeElement) && anodeElement.ValueKind != JsonValueKind.Null)
        {
            if (anodeElement.ValueKind != JsonValueKind.String || !IsElementSymbol(anodeElement.GetString()))
            {
                return $"field \"excitation.anode\" must be an element symbol such as \"Rh\", found {Shorten(anodeElement.GetRawText())}";
            }

            anode = anodeElement.GetString();
        }

        var problem = OptionalNumber(element, "kv", "excitation.kv", out var kilovolts);
        var currentProblem = OptionalNumber(element, "ua", "excitation.ua", out var microamperes);
        problem ??= currentProblem;
        if (problem is not null)
        {
            return problem;
        }

        if (kilovolts is { } kv && Excitation.CheckTubeVoltage(kv) is { } voltageProblem)
        {
            return "field \"excitation.kv\": " + voltageProblem;
        }

        if (microamperes is < 0)
        {
            return Invariant($"field \"excitation.ua\" is {microamperes}; the tube current must not be negative");
        }

        excitation = new Excitation(anode, kilovolts, microamperes);
        return null;
    }

    private static string? ParseMetadata(JsonElement root, out IReadOnlyDictionary<string, string>? metadata)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        metadata = result;
        if (!root.TryGetProperty("metadata", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"field \"metadata\" must be an object of strings, found {Describe(element.ValueKind)}";
        }

        foreach (var property in element.EnumerateObject())
        {
            result[property.Name] = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : property.Value.GetRawText();
        }

        return null;
    }

    private static string? ParseSymbols(JsonElement root, string name, out IReadOnlyList<string>? symbols)
    {
        symbols = null;
        var problem = ParseStrings(root, name, out var values);
        if (problem is not null || values is null)
        {
            return problem;
        }

        foreach (var value in values)
        {
            if (!IsElementSymbol(value))
            {
                return $"field \"{name}\" holds \"{Shorten(value)}\", which is not an element symbol (e.g. \"Fe\")";
            }
        }

        symbols = values;
        return null;
    }

    private static string? ParseLines(JsonElement root, out IReadOnlyList<string>? lines)
    {
        lines = null;
        var problem = ParseStrings(root, "lines", out var values);
        if (problem is not null || values is null)
        {
            return problem;
        }

        foreach (var value in values)
        {
            if (!IsLineName(value))
            {
                return $"field \"lines\" holds \"{Shorten(value)}\", which is not a line name \"<Symbol>-<IUPAC>\" (e.g. \"Fe-KL3\")";
            }
        }

        lines = values;
        return null;
    }

    private static string? ParseStrings(JsonElement root, string name, out List<string>? values)
    {
        values = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return $"field \"{name}\" must be an array of strings, found {Describe(element.ValueKind)}";
        }

        var result = new List<string>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return $"field \"{name}\" must be an array of strings, holds {Describe(item.ValueKind)}";
            }

            result.Add(item.GetString()!);
        }

        values = result;
        return null;
    }

    private static string? RequiredNumber(JsonElement parent, string name, string path, out double value)
    {
        value = double.NaN;
        if (!parent.TryGetProperty(name, out var element))
        {
            return $"missing field \"{path}\"";
        }

        return ReadNumber(element, path, out value);
    }

    private static string? OptionalNumber(JsonElement parent, string name, string path, out double? value)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var problem = ReadNumber(element, path, out var number);
        if (problem is null)
        {
            value = number;
        }

        return problem;
    }

    private static string? ReadNumber(JsonElement element, string path, out double value)
    {
        value = double.NaN;
        if (element.ValueKind != JsonValueKind.Number)
        {
            return $"field \"{path}\" must be a number, found {Describe(element.ValueKind)}";
        }

        return element.TryGetDouble(out value) && double.IsFinite(value) ? null : $"field \"{path}\" is not a finite number";
    }

    /// <summary>A calibration number; one JSON cannot hold (only written by <see cref="WriteAsStored"/>) as a string: "NaN", "Infinity", "-Infinity".</summary>
    private static void WriteCalibrationNumber(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void WriteJson(IBufferWriter<byte> buffer, LabelledSpectrum labelled, bool checkCalibration = true)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        var spectrum = labelled.Spectrum;
        var problem = (checkCalibration ? Validate(spectrum) : ValidateExceptCalibration(spectrum)) ?? ValidateLabels(labelled);
        if (problem is not null)
        {
            throw new ArgumentException($"spectrum \"{spectrum.Id}\" cannot be written as .jsonl: {problem}", nameof(labelled));
        }

        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("id", spectrum.Id);
        writer.WriteStartArray("counts");
        foreach (var count in spectrum.Counts)
        {
            writer.WriteNumberValue(count);
        }

        writer.WriteEndArray();
        writer.WriteStartObject("calibration");
        WriteCalibrationNumber(writer, "offset_kev", spectrum.Calibration.OffsetKeV);
        WriteCalibrationNumber(writer, "gain_kev_per_channel", spectrum.Calibration.GainKeVPerChannel);
        if (spectrum.Calibration.QuadraticKeVPerChannel2 != 0)
        {
            WriteCalibrationNumber(writer, "quadratic_kev_per_channel2", spectrum.Calibration.QuadraticKeVPerChannel2);
        }

        writer.WriteEndObject();
        if (spectrum.LiveTime is { } live)
        {
            writer.WriteNumber("live_time_s", live.TotalSeconds);
        }

        if (spectrum.RealTime is { } real)
        {
            writer.WriteNumber("real_time_s", real.TotalSeconds);
        }

        if (spectrum.Excitation is { } excitation)
        {
            writer.WriteStartObject("excitation");
            if (excitation.Anode is not null)
            {
                writer.WriteString("anode", excitation.Anode);
            }

            if (excitation.TubeVoltageKilovolts is { } kv)
            {
                writer.WriteNumber("kv", kv);
            }

            if (excitation.TubeCurrentMicroamperes is { } ua)
            {
                writer.WriteNumber("ua", ua);
            }

            writer.WriteEndObject();
        }

        WriteStrings(writer, "elements", labelled.Elements);
        WriteStrings(writer, "lines", labelled.Lines);
        WriteStrings(writer, "ignore_elements", labelled.IgnoreElements);
        WriteStrings(writer, "elements_in_sample", labelled.ElementsInSample);

        var metadata = spectrum.Metadata.Where(pair => !IsReaderAdded(pair.Key)).ToList();
        if (metadata.Count > 0)
        {
            writer.WriteStartObject("metadata");
            foreach (var (key, value) in metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    // Where a spectrum was read from is a property of that read, not of the spectrum: do not copy it onward.
    private static bool IsReaderAdded(string key) => key is "source" or "source_line" or "format";

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return;
        }

        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static bool IsLineName(string? name)
    {
        var dash = name is null ? -1 : name.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && dash < name!.Length - 1 && IsElementSymbol(name[..dash]);
    }

    /// <summary>One or two letters, first upper case, second lower case: "Fe", "O".</summary>
    internal static bool IsElementSymbol(string? symbol) =>
        symbol is { Length: 1 or 2 }
        && char.IsAsciiLetterUpper(symbol[0])
        && (symbol.Length == 1 || char.IsAsciiLetterLower(symbol[1]));

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>
    /// Untrusted text from a file made fit to quote in an error message: at most 40 characters (a 1-Mi-character value made
    /// a 1-MB error line), control characters written as <c>\uXXXX</c> (errors go to the operator's terminal and log, where
    /// an ESC sequence from a file could retitle or clear the screen).
    /// </summary>
    /// <param name="text">The text as read.</param>
    public static string Quotable(ReadOnlySpan<char> text) =>
        EscapeControlCharacters(text.Length <= 40 ? text.ToString() : string.Concat(text[..37], "..."));

    /// <summary>
    /// <paramref name="text"/> with each control character written as <c>\uXXXX</c>, whole: for untrusted text shown on a
    /// terminal (a spectrum id in identify's table), where an ESC sequence could retitle or clear the screen.
    /// </summary>
    /// <param name="text">The text as read.</param>
    public static string EscapeControlCharacters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = char.IsControl(c) ? escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}") : escaped.Append(c);
        }

        return escaped.ToString();
    }

    private static string Shorten(string text) => Quotable(text);

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message.TrimEnd('.');
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using System.Text;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Reads "any spectrum file" named on the command line: picks the reader by the forced format, else the
/// extension, else the first non-blank line, and yields one <see cref="SpectrumReadResult"/> per spectrum
/// (one for single-spectrum formats, one per line for <c>.jsonl</c>). Errors never throw: they come back as
/// results naming the file, the line and the problem, and the remaining spectra of the file are still read.
/// Used by the <c>rebin</c>, <c>identify</c> and <c>eval</c> verbs.
/// </summary>
public static class SpectrumFileReader
{
    /// <summary>
    /// Largest single-spectrum file read (.mca, .spe, .msa, .csv/.tsv), bytes: 64 MiB. A 16384-channel spectrum
    /// written as "energy, counts" rows is under 1 MiB, so anything near this is not a spectrum, and reading it whole
    /// would cost gigabytes. <c>.jsonl</c> files are streamed line by line and have no size limit.
    /// </summary>
    public const long MaxSingleSpectrumFileBytes = 64L * 1024 * 1024;

    /// <summary>Bytes of the file head inspected for content detection.</summary>
    private const int SniffLength = 512;

    /// <summary>Reads every spectrum of the file at <paramref name="path"/>.</summary>
    /// <param name="path">File path.</param>
    /// <param name="options">Forced format and fallback calibration; <see cref="SpectrumReadOptions.Default"/> when null.</param>
    public static IEnumerable<SpectrumReadResult> ReadAll(string path, SpectrumReadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= SpectrumReadOptions.Default;
        if (Directory.Exists(path))
        {
            return [SpectrumReadResult.Failure(path, 0, null, "is a directory, not a spectrum file")];
        }

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [SpectrumReadResult.Failure(path, 0, null, $"cannot open file: {ex.Message}")];
        }

        return ReadAndDispose(stream, path, options);
    }

    /// <summary>Reads every spectrum from <paramref name="stream"/>; <paramref name="source"/> names it and gives the extension.</summary>
    /// <param name="stream">The file's bytes; read to the end, not disposed.</param>
    /// <param name="source">File name for detection by extension, ids and messages.</param>
    /// <param name="options">Forced format and fallback calibration.</param>
    public static IEnumerable<SpectrumReadResult> Read(Stream stream, string source, SpectrumReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        return ReadIterator(stream, source, options ?? SpectrumReadOptions.Default);
    }

    /// <summary>
    /// The format of a file: a signature on the first non-blank line (<c>&lt;&lt;PMCA</c>, <c>$</c>, <c>#FORMAT</c>,
    /// <c>{</c>) whatever the extension, else the extension (<c>.mca</c>, <c>.spe</c>, <c>.msa</c>/<c>.emsa</c>,
    /// <c>.csv</c>/<c>.tsv</c>, <c>.jsonl</c>/<c>.ndjson</c>), else a number on that line (CSV); null when none tells.
    /// </summary>
    /// <param name="source">File name (only its extension is used).</param>
    /// <param name="head">The first characters of the file.</param>
    public static SpectrumFileFormat? DetectFormat(string source, string head)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(head);
        var byContent = FromContent(head);
        var byExtension = Path.GetExtension(source).ToUpperInvariant() switch
        {
            ".MCA" => SpectrumFileFormat.AmptekMca,
            ".SPE" => SpectrumFileFormat.Spe,
            ".MSA" or ".EMSA" => SpectrumFileFormat.Msa,
            ".CSV" or ".TSV" => SpectrumFileFormat.Csv,
            ".JSONL" or ".NDJSON" => SpectrumFileFormat.Jsonl,
            _ => (SpectrumFileFormat?)null,
        };

        // A signature in the content beats a misleading extension (an EMSA file saved as .txt or .csv); so does a '{', which
        // starts no CSV row and no other format's first line (a .jsonl saved as .csv used to fail as a CSV header).
        return byContent is SpectrumFileFormat.AmptekMca or SpectrumFileFormat.Msa or SpectrumFileFormat.Spe or SpectrumFileFormat.Jsonl
            ? byContent
            : byExtension ?? byContent;
    }

    private static IEnumerable<SpectrumReadResult> ReadAndDispose(FileStream stream, string path, SpectrumReadOptions options)
    {
        using (stream)
        {
            foreach (var result in ReadIterator(stream, path, options))
            {
                yield return result;
            }
        }
    }

    private static IEnumerable<SpectrumReadResult> ReadIterator(Stream stream, string source, SpectrumReadOptions options)
    {
        foreach (var result in ReadFormat(stream, source, options))
        {
            yield return WithFallbackAnode(result, options.FallbackAnode);
        }
    }

    /// <summary>The spectrum of <paramref name="result"/> with <paramref name="anode"/> as its anode when it names none.</summary>
    private static SpectrumReadResult WithFallbackAnode(SpectrumReadResult result, string? anode)
    {
        if (anode is null || result.Spectrum is not { } labelled || labelled.Spectrum.Excitation?.Anode is not null)
        {
            return result;
        }

        var excitation = labelled.Spectrum.Excitation is { } stated ? stated with { Anode = anode } : new Excitation(anode, null, null);
        return SpectrumReadResult.Success(result.Source, result.LineNumber, labelled with { Spectrum = labelled.Spectrum with { Excitation = excitation } });
    }

    private static IEnumerable<SpectrumReadResult> ReadFormat(Stream stream, string source, SpectrumReadOptions options)
    {
        // The head is read once and put back in front of the rest, so pipes, FIFOs and character devices work too.
        var headBytes = new byte[SniffLength];
        var headLength = 0;
        string? readError = null;
        try
        {
            headLength = stream.ReadAtLeast(headBytes, SniffLength, throwOnEndOfStream: false);
        }
        catch (IOException ex)
        {
            readError = $"read failed: {ex.Message}";
        }

        if (readError is not null)
        {
            yield return SpectrumReadResult.Failure(source, 0, null, readError);
            yield break;
        }

        var head = HeadText(headBytes.AsSpan(0, headLength));

        const string NulBytes = "the file looks like UTF-16 text without a byte-order mark, or a binary file (every other byte is NUL); save it as UTF-8 text";
        var nulBytes = LooksLikeUtf16WithoutMark(headBytes.AsSpan(0, headLength));
        var format = options.Format ?? DetectFormat(source, head);
        if (format is null && nulBytes)
        {
            yield return SpectrumReadResult.Failure(source, 0, null, NulBytes);
            yield break;
        }

        if (format is null)
        {
            yield return SpectrumReadResult.Failure(source, 0, null, headLength == 0
                ? "the file is empty"
                : "unknown spectrum file format: use .mca, .spe, .msa, .csv, .tsv or .jsonl, or a file starting with <<PMCA SPECTRUM>>, $SPEC_ID:, #FORMAT or {");
            yield break;
        }

        if (format != SpectrumFileFormat.Jsonl && KnownLength(stream) is { } length && length > MaxSingleSpectrumFileBytes)
        {
            yield return SpectrumReadResult.Failure(source, 0, null, TooLarge(length, format.Value));
            yield break;
        }

        if (nulBytes)
        {
            yield return SpectrumReadResult.Failure(source, 0, null, NulBytes);
            yield break;
        }

        // The limit also bounds what has no length: a pipe, or a device such as /dev/zero that reports 0.
        using var rest = new HeadThenRestStream(
            headBytes.AsMemory(0, headLength),
            stream,
            format == SpectrumFileFormat.Jsonl ? long.MaxValue : MaxSingleSpectrumFileBytes,
            source,
            TooLarge(null, format.Value));

        // Amptek writes ISO-8859-1 ("°C" in the status section); the other formats are ASCII or UTF-8.
        var encoding = format == SpectrumFileFormat.AmptekMca ? Encoding.Latin1 : Encoding.UTF8;
        using var reader = new StreamReader(rest, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        if (format == SpectrumFileFormat.Jsonl)
        {
            foreach (var result in SpectrumJsonl.Read(reader, source))
            {
                yield return result;
            }

            yield break;
        }

        yield return format switch
        {
            SpectrumFileFormat.AmptekMca => AmptekMcaReader.Read(reader, source, options),
            SpectrumFileFormat.Spe => SpeReader.Read(reader, source, options),
            SpectrumFileFormat.Msa => MsaReader.Read(reader, source, options),
            _ => CsvSpectrumReader.Read(reader, source, options),
        };
    }

    /// <summary>
    /// The head as text for detection: UTF-16 when it starts with a UTF-16 byte-order mark (Windows tools' "Unicode"), else
    /// Latin-1, which maps every byte to one character. The reader's <see cref="StreamReader"/> follows the same mark.
    /// </summary>
    private static string HeadText(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ? Encoding.Unicode.GetString(head[2..])
        : head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? Encoding.BigEndianUnicode.GetString(head[2..])
        : Encoding.Latin1.GetString(head);

    /// <summary>
    /// Whether the head, with no UTF-16 byte-order mark, is UTF-16 of ASCII text: in at least half of its byte pairs
    /// exactly one byte is NUL. Read as 8-bit text it failed with the first line quoted NULs and all ("# F O R M A T"),
    /// which named neither the problem nor the fix. A zero-filled block (a file cut by a power loss) has both bytes NUL
    /// and is left to the readers: a <c>.jsonl</c> reports that line and still reads the lines after it.
    /// </summary>
    private static bool LooksLikeUtf16WithoutMark(ReadOnlySpan<byte> head)
    {
        if (head.Length < 2 || head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return false;
        }

        var pairs = head.Length / 2;
        var halfNul = 0;
        for (var i = 0; i < pairs; i++)
        {
            halfNul += (head[2 * i] == 0) != (head[(2 * i) + 1] == 0) ? 1 : 0;
        }

        return halfNul * 2 >= pairs;
    }

    private static long? KnownLength(Stream stream)
    {
        try
        {
            // A character device (/dev/zero) can seek but reports length 0; the HeadThenRestStream's limit catches it.
            return stream.CanSeek ? stream.Length - stream.Position : null;
        }
        catch (Exception ex) when (ex is IOException or NotSupportedException)
        {
            return null;
        }
    }

    private static string TooLarge(long? length, SpectrumFileFormat format) =>
        FormattableString.Invariant(
            $"the file is {(length is { } bytes ? $"{bytes / (1024.0 * 1024.0):0.#} MiB" : "larger than that")}; a single-spectrum {format} file is at most {MaxSingleSpectrumFileBytes / (1024 * 1024)} MiB (16384 channels need under 1 MiB), so this is not a spectrum");

    /// <summary>
    /// The bytes already read for format detection, then the rest of the underlying stream; past <c>limit</c> bytes in
    /// all a read fails with a <see cref="SpectrumFormatException"/> naming the file (<c>problem</c>).
    /// </summary>
    private sealed class HeadThenRestStream(ReadOnlyMemory<byte> head, Stream inner, long limit, string source, string problem) : Stream
    {
        private ReadOnlyMemory<byte> _head = head;
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n;
            if (_head.IsEmpty)
            {
                n = inner.Read(buffer);
            }
            else
            {
                n = Math.Min(buffer.Length, _head.Length);
                _head.Span[..n].CopyTo(buffer);
                _head = _head[n..];
            }

            _read += n;
            return _read > limit ? throw new SpectrumFormatException(source, 0, problem) : n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static SpectrumFileFormat? FromContent(string head)
    {
        var text = head.TrimStart('\uFEFF', '\u00EF', '\u00BB', '\u00BF', ' ', '\t', '\r', '\n');
        if (text.StartsWith("<<PMCA", StringComparison.OrdinalIgnoreCase))
        {
            return SpectrumFileFormat.AmptekMca;
        }

        if (text.StartsWith("#FORMAT", StringComparison.OrdinalIgnoreCase))
        {
            return SpectrumFileFormat.Msa;
        }

        if (text.StartsWith('$'))
        {
            return SpectrumFileFormat.Spe;
        }

        if (text.StartsWith('{'))
        {
            return SpectrumFileFormat.Jsonl;
        }

        // Excel's "sep=;" first line declares a CSV delimiter (a .txt export would otherwise be an unknown format).
        return text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.' || text.StartsWith("sep=", StringComparison.OrdinalIgnoreCase))
            ? SpectrumFileFormat.Csv
            : null;
    }
}

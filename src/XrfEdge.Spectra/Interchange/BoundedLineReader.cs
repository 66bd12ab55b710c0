using System.Text;

namespace XrfEdge.Spectra.Interchange;

/// <summary>
/// Reads lines like <see cref="TextReader.ReadLine"/> (terminated by <c>\n</c>, <c>\r</c> or <c>\r\n</c>) but never
/// holds more than <see cref="MaxLineLength"/> characters of one line: a longer line is skipped to its end and
/// reported by its length, so a file without line breaks (a binary file, <c>/dev/zero</c>, a 1-GB blob) costs
/// bounded memory instead of an <see cref="OutOfMemoryException"/>.
/// </summary>
public sealed class BoundedLineReader
{
    private readonly TextReader _reader;
    private readonly char[] _buffer = new char[1 << 14];
    private readonly StringBuilder _line = new();
    private int _position;
    private int _length;

    /// <summary>Creates a reader over <paramref name="reader"/> that keeps at most <paramref name="maxLineLength"/> characters of a line.</summary>
    /// <param name="reader">The text; not disposed.</param>
    /// <param name="maxLineLength">Longest line returned, in characters.</param>
    public BoundedLineReader(TextReader reader, int maxLineLength)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLineLength);
        _reader = reader;
        MaxLineLength = maxLineLength;
    }

    /// <summary>Longest line returned, in characters.</summary>
    public int MaxLineLength { get; }

    /// <summary>
    /// Whether the line last returned by <see cref="ReadLine"/> ended with a line break; false when it ran to the end of
    /// the text, which in a file cut short is where the cut fell. The null that marks the end does not change it.
    /// </summary>
    public bool LastLineTerminated { get; private set; } = true;

    /// <summary>
    /// The next line without its terminator, or null at the end of the text. When the line is longer than
    /// <see cref="MaxLineLength"/>, returns an empty string and sets <paramref name="tooLongLength"/> to its length
    /// (saturated at <see cref="long.MaxValue"/>); otherwise <paramref name="tooLongLength"/> is 0.
    /// </summary>
    /// <exception cref="IOException">The underlying reader failed.</exception>
    public string? ReadLine(out long tooLongLength)
    {
        tooLongLength = 0;
        _line.Clear();
        long length = 0;
        var sawAny = false;
        while (true)
        {
            if (_position == _length)
            {
                _length = _reader.Read(_buffer, 0, _buffer.Length);
                _position = 0;
                if (_length == 0)
                {
                    if (!sawAny)
                    {
                        return null;
                    }

                    LastLineTerminated = false;
                    return Finish(length, out tooLongLength);
                }
            }

            sawAny = true;
            var span = _buffer.AsSpan(_position, _length - _position);
            var end = span.IndexOfAny('\n', '\r');
            var take = end < 0 ? span.Length : end;
            if (length + take <= MaxLineLength)
            {
                _line.Append(span[..take]);
            }

            length = length > long.MaxValue - take ? long.MaxValue : length + take;
            if (end < 0)
            {
                _position = _length;
                continue;
            }

            LastLineTerminated = true;
            var terminator = span[end];
            _position += end + 1;
            if (terminator == '\r')
            {
                SkipLineFeed();
            }

            return Finish(length, out tooLongLength);
        }
    }

    private string Finish(long length, out long tooLongLength)
    {
        tooLongLength = length > MaxLineLength ? length : 0;
        return tooLongLength > 0 ? string.Empty : _line.ToString();
    }

    private void SkipLineFeed()
    {
        if (_position == _length)
        {
            _length = _reader.Read(_buffer, 0, _buffer.Length);
            _position = 0;
        }

        if (_position < _length && _buffer[_position] == '\n')
        {
            _position++;
        }
    }
}

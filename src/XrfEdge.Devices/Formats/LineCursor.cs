using System.Globalization;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Reads a text file line by line, remembering the 1-based number of the last line returned; one line of push-back.
/// A line longer than <see cref="SpectrumJsonl.MaxLineLength"/> (4 Mi characters; a 16384-channel spectrum on one
/// line needs about 330 k) is an error, read in bounded memory: a binary file or one without line breaks fails
/// cleanly instead of being read into one huge string.
/// </summary>
internal sealed class LineCursor(TextReader reader, string source)
{
    private BoundedLineReader? _lines;
    private string? _pushedBack;
    private int _pushedBackNumber;

    /// <summary>File name for messages.</summary>
    public string Source { get; } = source;

    /// <summary>Number of the line last returned by <see cref="Next"/> (0 before the first).</summary>
    public int LineNumber { get; private set; }

    /// <summary>
    /// Whether the last line read from the text ended with a line break. False only for a last line that ran to the end of
    /// the file: a data section ending so, without its end marker, may have been cut inside its last value.
    /// </summary>
    public bool LastLineTerminated => _lines?.LastLineTerminated ?? true;

    /// <summary>The next line without its terminator, or null at the end of the file.</summary>
    public string? Next()
    {
        if (_pushedBack is not null)
        {
            var line = _pushedBack;
            _pushedBack = null;
            LineNumber = _pushedBackNumber;
            return line;
        }

        // Created on first use: At() makes a detached cursor per row for messages and must stay cheap.
        _lines ??= new BoundedLineReader(reader, SpectrumJsonl.MaxLineLength);
        var text = _lines.ReadLine(out var tooLong);
        if (text is not null)
        {
            LineNumber++;
        }

        return tooLong == 0
            ? text
            : throw Error(string.Create(CultureInfo.InvariantCulture, $"line is {tooLong} characters long; at most {SpectrumJsonl.MaxLineLength} are accepted (is this a binary file?)"));
    }

    /// <summary>Returns <paramref name="line"/> (the one just read) so that the next <see cref="Next"/> gives it again.</summary>
    public void PushBack(string line)
    {
        _pushedBack = line;
        _pushedBackNumber = LineNumber;
        LineNumber--;
    }

    /// <summary>A detached cursor positioned at <paramref name="lineNumber"/>, for errors about a row read earlier.</summary>
    public LineCursor At(int lineNumber) => new(TextReader.Null, Source) { LineNumber = lineNumber };

    /// <summary>An exception for a problem at the current line.</summary>
    public SpectrumFormatException Error(string problem) => new(Source, LineNumber, problem);

    /// <summary>An exception for a problem at <paramref name="lineNumber"/>.</summary>
    public SpectrumFormatException Error(int lineNumber, string problem) => new(Source, lineNumber, problem);
}

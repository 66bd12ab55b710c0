namespace XrfEdge.Devices.Formats;

/// <summary>Reads a text file line by line, remembering the 1-based number of the last line returned; one line of push-back.</summary>
internal sealed class LineCursor(TextReader reader, string source)
{
    private string? _pushedBack;
    private int _pushedBackNumber;

    /// <summary>File name for messages.</summary>
    public string Source { get; } = source;

    /// <summary>Number of the line last returned by <see cref="Next"/> (0 before the first).</summary>
    public int LineNumber { get; private set; }

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

        var text = reader.ReadLine();
        if (text is not null)
        {
            LineNumber++;
        }

        return text;
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

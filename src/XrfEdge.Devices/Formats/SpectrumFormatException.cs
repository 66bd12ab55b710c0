namespace XrfEdge.Devices.Formats;

/// <summary>A spectrum file could not be read; <see cref="Exception.Message"/> names the file, the line and the problem.</summary>
public sealed class SpectrumFormatException : Exception
{
    /// <summary>Creates an exception for <paramref name="problem"/> at <paramref name="lineNumber"/> of <paramref name="source"/>.</summary>
    /// <param name="source">File path or name.</param>
    /// <param name="lineNumber">1-based line number; 0 for the whole file.</param>
    /// <param name="problem">What is wrong, without the location.</param>
    public SpectrumFormatException(string source, int lineNumber, string problem)
        : base(lineNumber > 0 ? $"{source} line {lineNumber}: {problem}" : $"{source}: {problem}")
    {
        Source = source;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>Creates an exception with a message only.</summary>
    public SpectrumFormatException()
        : this("spectrum file", 0, "unreadable")
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public SpectrumFormatException(string message)
        : base(message)
    {
        Problem = message;
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public SpectrumFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>1-based line of the problem; 0 when it concerns the whole file.</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; } = string.Empty;
}

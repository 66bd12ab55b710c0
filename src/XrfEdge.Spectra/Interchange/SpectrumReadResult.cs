namespace XrfEdge.Spectra.Interchange;

/// <summary>
/// One item from a spectrum file reader: either a spectrum or an error that names the file, the line and
/// the problem. Readers yield one per spectrum (or per bad record) and carry on after an error, so one
/// corrupt record never hides the others.
/// </summary>
public sealed record SpectrumReadResult
{
    private SpectrumReadResult(string source, int lineNumber, string? id, LabelledSpectrum? spectrum, string? problem)
    {
        Source = source;
        LineNumber = lineNumber;
        Id = id;
        Spectrum = spectrum;
        Problem = problem;
    }

    /// <summary>The file (path or name) the record came from.</summary>
    public string Source { get; }

    /// <summary>1-based line number where the record (or the problem) is; 0 when the problem concerns the whole file.</summary>
    public int LineNumber { get; }

    /// <summary>The spectrum's id when known (also for most errors).</summary>
    public string? Id { get; }

    /// <summary>The spectrum, or <see langword="null"/> for an error.</summary>
    public LabelledSpectrum? Spectrum { get; }

    /// <summary>What is wrong, without the location; <see langword="null"/> on success.</summary>
    public string? Problem { get; }

    /// <summary>True when <see cref="Spectrum"/> holds a spectrum.</summary>
    public bool IsSuccess => Spectrum is not null;

    /// <summary>The full error sentence, "<c>file line N: problem</c>", or <see langword="null"/> on success.</summary>
    public string? Error => Problem is null
        ? null
        : LineNumber > 0
            ? $"{Source} line {LineNumber}: {Problem}"
            : $"{Source}: {Problem}";

    /// <summary>A successfully read spectrum.</summary>
    public static SpectrumReadResult Success(string source, int lineNumber, LabelledSpectrum spectrum)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        return new SpectrumReadResult(source, lineNumber, spectrum.Spectrum.Id, spectrum, null);
    }

    /// <summary>A record that could not be read.</summary>
    /// <param name="source">File path or name.</param>
    /// <param name="lineNumber">1-based line of the problem; 0 for the whole file.</param>
    /// <param name="id">Spectrum id if known.</param>
    /// <param name="problem">What is wrong, as a sentence fragment without the location.</param>
    public static SpectrumReadResult Failure(string source, int lineNumber, string? id, string problem)
    {
        ArgumentException.ThrowIfNullOrEmpty(problem);
        return new SpectrumReadResult(source, lineNumber, id, null, problem);
    }

    /// <inheritdoc/>
    public override string ToString() => Error ?? $"{Source} line {LineNumber}: {Id}";
}

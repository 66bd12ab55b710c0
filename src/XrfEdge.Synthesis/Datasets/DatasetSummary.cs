namespace XrfEdge.Synthesis.Datasets;

/// <summary>What a dataset writer produced.</summary>
/// <param name="Count">Spectra written.</param>
/// <param name="Elapsed">Wall time of generation and writing.</param>
public sealed record DatasetSummary(long Count, TimeSpan Elapsed)
{
    /// <summary>Throughput, spectra per second.</summary>
    public double SpectraPerSecond => Elapsed.TotalSeconds > 0 ? Count / Elapsed.TotalSeconds : double.PositiveInfinity;
}

namespace XrfEdge.Service.Pipeline;

/// <summary>The summary published when a scan ends: how many points, how fast, how often each element was found.</summary>
internal sealed record ScanSummary(
    string ScanId,
    DateTimeOffset Started,
    DateTimeOffset Ended,
    long Points,
    long Failed,
    bool Aborted,
    IReadOnlyDictionary<string, long> ElementCounts);

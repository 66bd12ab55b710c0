using XrfEdge.Spectra.Identification;

namespace XrfEdge.Inference.Evaluation;

/// <summary>One labelled spectrum and what the identifier said about it.</summary>
public sealed record EvaluationSample
{
    /// <summary>The identifier's result.</summary>
    public required Identification Result { get; init; }

    /// <summary>
    /// A probability for every catalogue element (LineCatalog.Elements order): the element head's output when the model
    /// has one, otherwise the reported probability of reported elements and the highest line probability of the others.
    /// </summary>
    public required IReadOnlyList<float> ElementScores { get; init; }

    /// <summary>Truth: elements present and detectable (spectra-jsonl "elements"); null = no element labels.</summary>
    public IReadOnlyCollection<string>? Elements { get; init; }

    /// <summary>Truth: lines present ("lines"); null = no line labels (line-level metrics skip the spectrum).</summary>
    public IReadOnlyCollection<string>? Lines { get; init; }

    /// <summary>Elements left out of scoring ("ignore_elements": tube anode, Ar, …).</summary>
    public IReadOnlyCollection<string> IgnoreElements { get; init; } = [];

    /// <summary>True composition, detectable or not ("elements_in_sample"); enables the paper protocol.</summary>
    public IReadOnlyCollection<string>? ElementsInSample { get; init; }
}

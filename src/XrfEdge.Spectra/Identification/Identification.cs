namespace XrfEdge.Spectra.Identification;

/// <summary>The result of identifying one spectrum: reported elements and lines, strongest first.</summary>
public sealed record Identification
{
    /// <summary>Id of the spectrum identified.</summary>
    public required string SpectrumId { get; init; }

    /// <summary>Elements reported present (probability at or above threshold), highest probability first.</summary>
    public required IReadOnlyList<ElementDetection> Elements { get; init; }

    /// <summary>Lines reported present, highest probability first.</summary>
    public required IReadOnlyList<LineDetection> Lines { get; init; }

    /// <summary>
    /// Elements the model does not assess in this measurement, by atomic number (e.g. ["Ar", "Rh"]): never in
    /// <see cref="Elements"/> or <see cref="Lines"/>, whatever their probability, because the model was not trained to
    /// decide them: Ar (air in the beam path, unlabelled in training) always, and the tube anode when the measurement
    /// names it (its lines are scattered into every spectrum). A caller shows them as "not assessed", not as absent.
    /// </summary>
    public IReadOnlyList<string> NotAssessed { get; init; } = [];

    /// <summary>All 556 line probabilities in catalogue order (the privileged basis), for dashboards and audits.</summary>
    public required float[] LineProbabilities { get; init; }

    /// <summary>The model that produced this result.</summary>
    public required ModelIdentity Model { get; init; }

    /// <summary>How unlike the training data the spectrum looks (higher = more novel), when the model provides one.</summary>
    public double? NoveltyScore { get; init; }

    /// <summary>Total counts against the model's trained range, when the model card states one.</summary>
    public InputCounts? Counts { get; init; }

    /// <summary>
    /// How much of the 0–30 keV model grid the spectrum's channels cover, against the full scales the model was trained
    /// on (SpectrumIdentifier always sets it; null only for results built elsewhere). A report: decoding ignores it.
    /// </summary>
    public EnergyCoverage? Coverage { get; init; }
}

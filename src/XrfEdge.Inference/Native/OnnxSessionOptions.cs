namespace XrfEdge.Inference.Native;

/// <summary>Options of one ORT session (applied through OrtSessionOptions, which is released after creation).</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>
    /// Intra-op threads; 1 by default because the instrument's CPU is shared with acquisition and MQTT, and a second
    /// thread barely helps batch 1 (reference §3.4: int8 25 µs → 22 µs) while it gives about 1.6× at batch 256.
    /// </summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Inter-op threads (the encoder graph is sequential, so 1).</summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>Graph optimisation level; <see cref="GraphOptimizationLevel.All"/> so QDQ groups fuse into int8 kernels.</summary>
    public GraphOptimizationLevel GraphOptimization { get; init; } = GraphOptimizationLevel.All;

    /// <summary>Ask ORT for deterministic kernels (API 17+; logged and skipped on older runtimes).</summary>
    public bool DeterministicCompute { get; init; } = true;

    /// <summary>
    /// Whether idle intra-op workers spin (session.intra_op.allow_spinning). Spinning saves about 12 µs of wake-up at
    /// 2 threads (reference §3.4) but burns a core; irrelevant with 1 thread.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>
    /// Lowest ORT severity logged for this session (OrtLoggingLevel: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal);
    /// default 2. Inspection sessions use 3 to silence the expected "hardware specific optimizations" warning.
    /// </summary>
    public int LogSeverityLevel { get; init; } = 2;

    /// <summary>When set, ORT writes the optimised graph here at session creation (for inspection).</summary>
    public string? OptimizedModelPath { get; init; }
}

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace XrfEdge.Bench;

/// <summary>
/// In-process, short: the inference benchmarks run dozens of parameter combinations on a shared 2-core machine, so
/// they skip BenchmarkDotNet's per-benchmark rebuild and use 3 warm-up and 8 measured iterations.
/// </summary>
public sealed class InferenceBenchConfig : ManualConfig
{
    public InferenceBenchConfig()
    {
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(8).WithId("inproc"));
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}

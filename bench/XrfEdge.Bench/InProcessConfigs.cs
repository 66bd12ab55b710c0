using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace XrfEdge.Bench;

/// <summary>
/// In-process jobs for the messaging benchmarks: generating and building a separate benchmark project takes longer
/// than BenchmarkDotNet's 2-minute build timeout on the shared 2-core CI machine.
/// </summary>
internal sealed class InProcessShortConfig : ManualConfig
{
    public InProcessShortConfig() =>
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithToolchain(InProcessEmitToolchain.Instance));
}

/// <summary>Each iteration is one long operation (thousands of messages): measured once per iteration, 3 iterations.</summary>
internal sealed class InProcessMonitoringConfig : ManualConfig
{
    public InProcessMonitoringConfig() =>
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).WithToolchain(InProcessEmitToolchain.Instance));
}

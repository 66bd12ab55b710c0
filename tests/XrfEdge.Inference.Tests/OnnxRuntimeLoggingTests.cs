using Microsoft.Extensions.Logging;
using XrfEdge.Inference.Native;

namespace XrfEdge.Inference.Tests;

public sealed class OnnxRuntimeLoggingTests
{
    [Fact]
    public void OrtWarning_ReachesTheAttachedLogger()
    {
        var logger = new MemoryLogger();
        var runtime = OnnxRuntime.Initialize(logger: logger);
        var dump = Path.Combine(Path.GetTempPath(), $"xrfedge-log-{Guid.NewGuid():N}.onnx");
        try
        {
            // Saving a graph optimised at level All makes ORT 1.30 warn about hardware-specific (Nchwc) optimisations
            // (reference §3.5); at the default session severity (warning) it must arrive through our callback.
            using (runtime.CreateSession(File.ReadAllBytes(TestModels.Fp32), new OnnxSessionOptions { OptimizedModelPath = dump }))
            {
            }
        }
        finally
        {
            File.Delete(dump);
        }

        Assert.Contains(logger.Entries, e => e.Event.Id == 4001 && e.Level == LogLevel.Warning && e.Message.Contains("NchwcTransformer", StringComparison.Ordinal));
    }
}

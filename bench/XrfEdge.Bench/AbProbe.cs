using System.Diagnostics;
using System.Globalization;
using XrfEdge.Inference;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Inference.Native;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/XrfEdge.Bench -- ab ROUNDS MODEL.onnx [MODEL.onnx …]</c>: batch-1,
/// 1-thread bare ORT Run latency of several models through the C# binding, timed interleaved. Round r times every
/// model once (4,000 calls each), so a shared machine that drifts between rounds slows every model alike; each
/// model's figure is its median per-call time over the rounds. For A/B comparisons of graphs (e.g. two exports of the
/// same weights) on a machine too noisy for two separate <c>xrfedge bench</c> runs to be compared.
/// </summary>
internal static class AbProbe
{
    private const int CallsPerRound = 4000;
    private const int WarmUpCalls = 2000;

    public static int Run(string[] args)
    {
        if (args.Length < 3 || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var rounds) || rounds < 1)
        {
            Console.Error.WriteLine("usage: ab ROUNDS MODEL.onnx [MODEL.onnx …]  (ROUNDS ≥ 1)");
            return 2;
        }

        var paths = args[2..];
        var encoders = new List<LineEncoder>();
        var batches = new List<EncoderBatch>();
        try
        {
            var spectrum = BenchmarkSpectra.Create(1)[0];
            Span<double> scratch = stackalloc double[ModelGrid.BinCount];
            foreach (var path in paths)
            {
                var encoder = LineEncoder.Open(path, new LineEncoderOptions { Session = new OnnxSessionOptions { IntraOpThreads = 1 } });
                encoders.Add(encoder);
                var batch = encoder.Rent(1);
                batches.Add(batch);
                ModelInput.Fill(spectrum, batch.InputRow(0), scratch);
                for (var i = 0; i < WarmUpCalls; i++)
                {
                    batch.Run();
                }
            }

            var perCallMicroseconds = paths.Select(_ => new List<double>()).ToArray();
            for (var r = 0; r < rounds; r++)
            {
                for (var m = 0; m < batches.Count; m++)
                {
                    var start = Stopwatch.GetTimestamp();
                    for (var i = 0; i < CallsPerRound; i++)
                    {
                        batches[m].Run();
                    }

                    perCallMicroseconds[m].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / CallsPerRound);
                }
            }

            for (var m = 0; m < paths.Length; m++)
            {
                var sorted = perCallMicroseconds[m].Order().ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{paths[m]}: median {sorted[sorted.Length / 2]:F1} µs per batch-1 call over {rounds} rounds ({string.Join(", ", perCallMicroseconds[m].Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))})"));
            }

            return 0;
        }
        finally
        {
            batches.ForEach(b => b.Dispose());
            encoders.ForEach(e => e.Dispose());
        }
    }
}

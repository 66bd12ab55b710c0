using System.Globalization;
using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Service.Cli;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// identify, eval and rebin when their standard output is a pipe whose reader has gone (<c>… | head -1</c>): the first
/// write that fails ends the run with exit 141 (128 + SIGPIPE), without a stack trace. Here the writer fails as
/// <see cref="PipeStandardOutput"/>'s does; InferenceVerbInterruptTests runs the real process into a closed pipe.
/// </summary>
public sealed class ClosedStandardOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-closed-out-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A standard output whose reader has gone: every write throws, as PipeStandardOutput's writer does at EPIPE.</summary>
    private sealed class FakeClosedPipeWriter : TextWriter
    {
        public int Writes { get; private set; }

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => Fail();

        public override void Write(string? value) => Fail();

        public override void WriteLine(string? value) => Fail();

        private void Fail()
        {
            Writes++;
            throw new StandardOutputClosedException();
        }
    }

    /// <summary><paramref name="count"/> labelled benchmark spectra (2048 channels, Fe+Cu, ids bench-…) as .jsonl bytes.</summary>
    private static byte[] Jsonl(int count)
    {
        using var bytes = new MemoryStream();
        foreach (var spectrum in BenchmarkSpectra.Create(count, seed: 3))
        {
            SpectrumJsonl.Write(bytes, new LabelledSpectrum(spectrum) { Elements = ["Fe", "Cu"], IgnoreElements = ["Rh", "Ar"] });
        }

        return bytes.ToArray();
    }

    [Fact]
    public void Identify_StdoutClosed_EndsAtTheFirstResultWithExit141AndLeavesTheInputUnread()
    {
        // About five model batches (SpectrumIdentifier.MaxBatchSize = 256): the first batch's first row fails, so the rest
        // is neither read nor identified (until 2026-11-24 Console.Out swallowed EPIPE and all were). Reading runs one
        // batch ahead of the model (ReadAhead, since 2026-11-25), so at most two batches and the reader's buffer are read.
        const int Spectra = 1200;
        using var stdin = new MemoryStream(Jsonl(Spectra));
        var output = new FakeClosedPipeWriter();
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = IdentifyCommand.Run([IdentifyCommand.StandardInputName], RepositoryRoot.TestModel, asJson: true, thresholdScale: 1.0, output, error, standardInput: stdin);

        Assert.Equal(PipeStandardOutput.ClosedExitCode, code);
        Assert.Equal(1, output.Writes);
        var read = stdin.Position;
        Assert.True(read < stdin.Length * 3 / 5, $"read {read} of {stdin.Length} bytes");
        Assert.Empty(error.ToString());
    }

    [Fact]
    public void Eval_JsonStdoutClosed_Exit141()
    {
        var input = Path.Combine(_dir, "labelled.jsonl");
        File.WriteAllBytes(input, Jsonl(3));
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = EvalCommand.Run(input, RepositoryRoot.TestModel, asJson: true, thresholdScale: 1.0, new FakeClosedPipeWriter(), error);

        // A report nobody received is no passed evaluation (exit 0 until 2026-11-24).
        Assert.Equal(PipeStandardOutput.ClosedExitCode, code);
    }

    [Fact]
    public void Rebin_StdoutClosed_EndsAtTheFirstSpectrumWithExit141()
    {
        var input = Path.Combine(_dir, "many.jsonl");
        File.WriteAllBytes(input, Jsonl(20));
        var output = new FakeClosedPipeWriter();
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = RebinCommand.Run(input, SpectrumReadOptions.Default, asJson: true, output, error);

        Assert.Equal(PipeStandardOutput.ClosedExitCode, code);
        Assert.Equal(1, output.Writes);
        Assert.Empty(error.ToString());
    }
}

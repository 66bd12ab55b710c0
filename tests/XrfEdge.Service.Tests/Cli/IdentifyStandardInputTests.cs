using System.Globalization;
using System.Text;
using System.Text.Json;
using XrfEdge.Devices.Formats;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Service.Cli;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// <c>xrfedge identify -</c>: standard input as a spectrum file, as <c>cat</c>, <c>grep</c> and <c>tar</c> read it. Until
/// 2026-11-24 '-' was taken for a file of that name ("-: cannot open file: Could not find file '/…/-'", exit 1), so
/// <c>producer | xrfedge identify -</c> failed, and blamed a file nobody had named.
/// </summary>
public sealed class IdentifyStandardInputTests
{
    /// <summary><paramref name="count"/> benchmark spectra (2048 channels, ids bench-0000 …) as .jsonl bytes.</summary>
    private static byte[] Jsonl(int count)
    {
        using var bytes = new MemoryStream();
        foreach (var spectrum in BenchmarkSpectra.Create(count, seed: 3))
        {
            SpectrumJsonl.Write(bytes, new LabelledSpectrum(spectrum));
        }

        return bytes.ToArray();
    }

    [Fact]
    public void Run_DashWithJsonlPiped_IdentifiesEverySpectrumOfStandardInput()
    {
        using var stdin = new MemoryStream(Jsonl(3));
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = IdentifyCommand.Run([IdentifyCommand.StandardInputName], RepositoryRoot.TestModel, asJson: true, thresholdScale: 1.0, output, error, standardInput: stdin);

        Assert.True(code == 0, $"exit {code}, stderr '{error.ToString().Trim()}'");
        var ids = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(row => JsonDocument.Parse(row).RootElement.GetProperty("id").GetString());
        Assert.Equal(["bench-0000", "bench-0001", "bench-0002"], ids);
    }

    [Fact]
    public void Run_DashWithAnMcaPiped_DetectsTheFormatByContentAndCallsTheSpectrumStdin()
    {
        // Standard input has no extension: the format comes from the first line (<<PMCA SPECTRUM>>), and a single-spectrum
        // file takes its id from its name, here "stdin".
        var mca = new StringWriter(CultureInfo.InvariantCulture);
        AmptekMcaWriter.Write(mca, BenchmarkSpectra.Create(1, seed: 3)[0]);
        using var stdin = new MemoryStream(Encoding.Latin1.GetBytes(mca.ToString()));
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = IdentifyCommand.Run([IdentifyCommand.StandardInputName], RepositoryRoot.TestModel, asJson: true, thresholdScale: 1.0, output, error, standardInput: stdin);

        Assert.True(code == 0, $"exit {code}, stderr '{error.ToString().Trim()}'");
        var row = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(IdentifyCommand.StandardInputSource, JsonDocument.Parse(row).RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public void Run_DashWhenStandardInputIsATerminal_UsageErrorNamingDashAndHowToPipe()
    {
        // The action passes no stream when stdin is a terminal: waiting there for typed spectra would look like a hang.
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = IdentifyCommand.Run([IdentifyCommand.StandardInputName], RepositoryRoot.TestModel, asJson: false, thresholdScale: 1.0, output, error, standardInput: null);

        Assert.Equal(InferenceCli.ExitUnusable, code);
        Assert.Contains("'-' reads spectra from standard input, which is a terminal here", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("xrfedge identify - < FILE", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task Parse_DashTwice_UsageErrorExit2()
    {
        // The second '-' read an exhausted stream and reported "the file holds no spectra" (exit 1) for a typing slip.
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = await XrfEdgeCommandLine.InvokeAsync(["identify", "-", "--input", "-", "--model", RepositoryRoot.TestModel], output, error);

        Assert.Equal(2, code);
        Assert.Contains("'-' (standard input) is named more than once", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_DashOnAPipe_LeavesThePipeBlockingForTheNextReader()
    {
        // `producer | { xrfedge identify -; next; }`: stdin is read through .NET's socket engine (Ctrl-C on a quiet pipe),
        // which sets O_NONBLOCK on the open file description that `next` shares; left set, next's read fails with EAGAIN
        // ("Resource temporarily unavailable") instead of waiting. /proc/self/fdinfo/0 of the cat that follows shows
        // the shared flags, in octal (proc(5)); O_NONBLOCK is 04000 (asm-generic/fcntl.h).
        var script = "printf '' | { dotnet \"$0\" identify - --json --model \"$1\" >/dev/null 2>&1; cat /proc/self/fdinfo/0; }";
        var start = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", script, Path.Combine(AppContext.BaseDirectory, "xrfedge.dll"), RepositoryRoot.TestModel })
        {
            start.ArgumentList.Add(arg);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var shell = System.Diagnostics.Process.Start(start)!;
        var fdinfo = await shell.StandardOutput.ReadToEndAsync(timeout.Token);
        await shell.WaitForExitAsync(timeout.Token);

        var flags = fdinfo.Split('\n').Single(line => line.StartsWith("flags:", StringComparison.Ordinal));
        Assert.Equal(0, Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & 0x800);
    }

    [Fact]
    public void Run_DashInterruptedPartway_StopsReadingStandardInputAndWritesTheSpectraIdentified()
    {
        // Ctrl-C while a long stream comes in (`producer | xrfedge identify -`): the verb stops between spectra, reads no
        // further than what the reader had buffered, and every spectrum it says it identified has its result written.
        const int Spectra = 600;
        var bytes = Jsonl(Spectra);
        using var interrupt = new CancellationTokenSource();
        // Ctrl-C after 20 of the 600 lines' bytes have been read (each line is a 2048-channel spectrum, about 8 KiB).
        using var stdin = new FakeStdinInterruptedPartway(bytes, bytes.Length * 20L / Spectra, interrupt);
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = IdentifyCommand.Run([IdentifyCommand.StandardInputName], RepositoryRoot.TestModel, asJson: true, thresholdScale: 1.0, output, error, standardInput: stdin, cancellationToken: interrupt.Token);

        Assert.True(code == 130, $"exit {code}, stderr '{error.ToString().Trim()}'");
        var said = System.Text.RegularExpressions.Regex.Match(error.ToString(), @"xrfedge identify: interrupted after (\d+) spectra");
        Assert.True(said.Success, $"stderr '{error.ToString().Trim()}'");
        var rows = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(int.Parse(said.Groups[1].Value, CultureInfo.InvariantCulture), rows.Length);
        Assert.InRange(rows.Length, 1, Spectra - 1);
        // Past the interrupt the reader takes at most one more buffer (StreamReader: 64 KiB, 4 KiB per read here) before the verb stops.
        Assert.True(stdin.BytesRead <= stdin.InterruptAfterBytes + (128 * 1024), $"read {stdin.BytesRead} of {bytes.Length} bytes, interrupted at {stdin.InterruptAfterBytes}");
    }

    [Fact]
    public void Run_CtrlCAfterTheLastSpectrumWasRead_NotAnInterruptionExit0()
    {
        // The signal comes when the reader finds the end of the input, after the last spectrum was read (a user pressing
        // Ctrl-C as the last batch is identified). Until 2026-11-24 identify then said "interrupted after 3 spectra; … the
        // rest of the input was not read" and exited 130, with every result written and no input left unread.
        var bytes = Jsonl(3);
        using var interrupt = new CancellationTokenSource();
        using var stdin = new FakeStdinInterruptedPartway(bytes, bytes.Length, interrupt);
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);

        var code = IdentifyCommand.Run([IdentifyCommand.StandardInputName], RepositoryRoot.TestModel, asJson: true, thresholdScale: 1.0, output, error, standardInput: stdin, cancellationToken: interrupt.Token);

        Assert.True(interrupt.IsCancellationRequested, "the fake never signalled: the reader did not read to the end");
        Assert.True(code == 0, $"exit {code}, stderr '{error.ToString().Trim()}'");
        Assert.DoesNotContain("interrupted", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(3, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>
    /// Standard input carrying <c>bytes</c>, on which Ctrl-C comes (cancels <c>interrupt</c>) at the first read after a given
    /// number of them has been handed over: with all of them, at the read that finds the end of the input.
    /// </summary>
    private sealed class FakeStdinInterruptedPartway(byte[] bytes, long interruptAfterBytes, CancellationTokenSource interrupt) : Stream
    {
        public long InterruptAfterBytes => interruptAfterBytes;

        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (BytesRead >= interruptAfterBytes)
            {
                interrupt.Cancel();
            }

            // A pipe hands over what the writer has written so far: 4 KiB at a time here.
            var n = (int)Math.Min(Math.Min(buffer.Length, 4096), bytes.Length - BytesRead);
            bytes.AsSpan((int)BytesRead, n).CopyTo(buffer);
            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

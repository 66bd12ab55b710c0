using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// Ctrl-C (SIGINT) sent to a real <c>xrfedge identify</c>, <c>eval</c> or <c>bench</c> child process. Until 2026-11-24
/// these verbs got no cancellation token, so the runtime's default handling killed them at once: no word of what had
/// been done, results read but not yet written lost. Since then they stop between spectra (or measurements), say so on
/// stderr and exit 130, as <c>synth</c> and <c>outbox export</c> do.
/// </summary>
/// <remarks>
/// The input of identify and eval is a named pipe: the child has registered its signal handler before it opens the
/// input, and the test's open for writing returns only once the child has opened it, so the signal never comes too
/// early; after the signal the test closes the pipe, so that a child that ignored the signal would end with exit 0.
/// </remarks>
public sealed class InferenceVerbInterruptTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task SignalAsync(Process process, string signal, CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", [signal, process.Id.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(cancellationToken);
    }

    private string Fifo()
    {
        var path = Path.Combine(_dir, "in.jsonl");
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    /// <summary>Writes <paramref name="count"/> labelled benchmark spectra (Fe+Cu, ids bench-…) into the pipe.</summary>
    private static void WriteSpectra(Stream pipe, int count)
    {
        foreach (var spectrum in BenchmarkSpectra.Create(count, seed: 3))
        {
            SpectrumJsonl.Write(pipe, Labelled(spectrum));
        }

        pipe.Flush();
    }

    private static LabelledSpectrum Labelled(RawSpectrum spectrum) => new(spectrum) { Elements = ["Fe", "Cu"], IgnoreElements = ["Rh", "Ar"] };

    /// <summary>
    /// Feeds the pipe spectra of ids late-0, late-1 … until the child closes its end (the write fails), exits, or
    /// <see cref="FeedAtMost"/> has passed. The child stops reading once its signal handler has run, which on a loaded
    /// machine can be after it has read more (eval read 64 more, some 600 KiB, and the end of its input in 1 run of 3): had the pipe closed first, it would have
    /// read to the end of its input, which is no interruption, and exited 0. A write blocks while the pipe (64 KiB) is
    /// full, so this runs at the child's pace; a child that ignored the signal reads on until the time is up and then
    /// exits 0 at the end of its input.
    /// </summary>
    /// <returns>Whether the child stopped reading (closed its end or exited) before the time was up.</returns>
    private static bool FeedUntilClosed(Stream pipe, Process child)
    {
        var late = BenchmarkSpectra.Create(1, seed: 3)[0];
        var feeding = Stopwatch.StartNew();
        try
        {
            for (var i = 0; feeding.Elapsed < FeedAtMost && !child.HasExited; i++)
            {
                SpectrumJsonl.Write(pipe, Labelled(late with { Id = string.Create(CultureInfo.InvariantCulture, $"late-{i}") }));
            }

            return child.HasExited;
        }
        catch (IOException)
        {
            // Broken pipe: the child stopped reading and closed its end, as it should.
            return true;
        }
    }

    /// <summary>How long <see cref="FeedUntilClosed"/> feeds a child that does not stop: the failure's cost, not a measurement.</summary>
    private static readonly TimeSpan FeedAtMost = TimeSpan.FromSeconds(20);

    /// <summary>Runs a verb on a pipe: writes spectra, sends SIGINT, closes the pipe; returns exit code, stdout and stderr.</summary>
    private Task<(int ExitCode, string Output, string Error)> InterruptOnPipeAsync(params string[] verb) => SignalOnPipeAsync("INT", verb);

    /// <summary>Runs a verb on a pipe: writes spectra, sends SIG<paramref name="signal"/>, closes the pipe; returns exit code, stdout and stderr.</summary>
    private Task<(int ExitCode, string Output, string Error)> SignalOnPipeAsync(string signal, params string[] verb) =>
        SignalOnPipeAsync(signal, fifo => [.. verb, fifo, "--model", RepositoryRoot.TestModel]);

    /// <summary>As above, with the command line built around the pipe's path (a verb without --model).</summary>
    private async Task<(int ExitCode, string Output, string Error)> SignalOnPipeAsync(string signal, Func<string, string[]> arguments)
    {
        var fifo = Fifo();
        using var timeout = new CancellationTokenSource(Patience);
        using var process = XrfEdgeProcess.Start(arguments(fifo));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await using (var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
        {
            WriteSpectra(pipe, 3);
            await SignalAsync(process, "-" + signal, timeout.Token);
            // Until 2026-11-24 three more spectra followed and the pipe closed: repeats of the first three's ids (read as
            // errors, which the count below missed) and, when the handler ran late, an end of input before the signal.
            FeedUntilClosed(pipe, process);
        }

        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task Identify_SigInt_StopsSayingHowManyWereIdentifiedWritesTheirResultsAndExits130()
    {
        var (code, output, error) = await InterruptOnPipeAsync("identify", "--json");

        Assert.True(code == 130, $"exit {code}, stderr '{error.Trim()}'");
        var said = System.Text.RegularExpressions.Regex.Match(error, @"xrfedge identify: interrupted after (\d+) spectra");
        Assert.True(said.Success, $"stderr '{error.Trim()}'");
        // Every spectrum it says it identified has its whole result on stdout, and nothing more.
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(int.Parse(said.Groups[1].Value, CultureInfo.InvariantCulture), rows.Length);
        Assert.All(rows, row => Assert.False(JsonDocument.Parse(row).RootElement.TryGetProperty("error", out _), row));
    }

    [Fact]
    public async Task Identify_SigTerm_StopsLikeCtrlCWritesTheResultsReadAndExits130()
    {
        // systemd's stop, `timeout`, a container runtime: docs/inference.md promises Ctrl-C's behaviour for SIGTERM too
        // (XrfEdgeCommandLine.CancelledOnTerminationAsync registers both), so the spectra read are written, not lost.
        var (code, output, error) = await SignalOnPipeAsync("TERM", "identify", "--json");

        Assert.True(code == 130, $"exit {code}, stderr '{error.Trim()}'");
        var said = System.Text.RegularExpressions.Regex.Match(error, @"xrfedge identify: interrupted after (\d+) spectra");
        Assert.True(said.Success, $"stderr '{error.Trim()}'");
        Assert.Equal(int.Parse(said.Groups[1].Value, CultureInfo.InvariantCulture), output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Eval_SigInt_StopsWithoutAPartialReportAndExits130()
    {
        var (code, output, error) = await InterruptOnPipeAsync("eval", "--json", "--input");

        Assert.True(code == 130, $"exit {code}, stderr '{error.Trim()}'");
        Assert.Matches(@"xrfedge eval: interrupted after \d+ spectra; no metrics", error);
        // Metrics of part of a file would pass for the whole file's (training reports read this JSON).
        Assert.Empty(output);
    }

    [Fact]
    public async Task Rebin_SigInt_StopsSayingHowManyWereRebinnedWritesTheirRowsAndExits130()
    {
        // Until 2026-11-24 rebin had no handler: the runtime killed it at once, without a word (and mid-line on a pipe).
        var (code, output, error) = await SignalOnPipeAsync("INT", fifo => ["rebin", "--json", "--input", fifo]);

        Assert.True(code == 130, $"exit {code}, stderr '{error.Trim()}'");
        var said = System.Text.RegularExpressions.Regex.Match(error, @"rebin: interrupted after (\d+) spectra");
        Assert.True(said.Success, $"stderr '{error.Trim()}'");
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(int.Parse(said.Groups[1].Value, CultureInfo.InvariantCulture), rows.Length);
        // Whole rows only: each is one complete JSON object of the model grid (300 bins).
        Assert.All(rows, row => Assert.Equal(300, JsonDocument.Parse(row).RootElement.GetProperty("counts").GetArrayLength()));
    }

    [Fact]
    public async Task Identify_SigIntWhileStandardInputIsQuiet_ExitsAt130WithoutWaitingForTheNextLine()
    {
        // `tail -f x.jsonl | xrfedge identify -`: until 2026-11-24 the read of the quiet pipe went on blocking after
        // Ctrl-C, and the signal took effect only with the writer's next line. Once the 256 spectra's rows have reached stdout
        // (one batch, or several since the quiet flush of 2026-11-25), the last of them was read. Blank lines follow, which the
        // reader skips without yielding anything: 20,000 of them, more than the 16,384 characters BoundedLineReader asks
        // its StreamReader for, which fills a request before it returns (docs/inference.md §6, the limits of a live
        // pipe). So the child ends in the read with the pipe quiet (its write end stays open until the child has exited),
        // and no item comes that the check between spectra could stop at.
        const int Batch = 256;
        using var timeout = new CancellationTokenSource(Patience);
        var start = XrfEdgeProcess.StartInfo("identify", "-", "--json", "--model", RepositoryRoot.TestModel);
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        var writing = Task.Run(
            () =>
            {
                WriteSpectra(process.StandardInput.BaseStream, Batch);
                process.StandardInput.BaseStream.Write(Enumerable.Repeat((byte)'\n', 20_000).ToArray());
                process.StandardInput.BaseStream.Flush();
            },
            timeout.Token);
        for (var row = 0; row < Batch; row++)
        {
            Assert.NotNull(await process.StandardOutput.ReadLineAsync(timeout.Token));
        }

        await writing;
        await SignalAsync(process, "-INT", timeout.Token);
        using var quiet = new CancellationTokenSource(QuietAtMost);
        var endedWhileQuiet = await EndsWithinAsync(process, quiet.Token);
        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(endedWhileQuiet, $"still running {QuietAtMost.TotalSeconds} s after SIGINT on a quiet pipe; then exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.Contains($"xrfedge identify: interrupted after {Batch} spectra", await error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await process.StandardOutput.ReadToEndAsync(timeout.Token));
    }

    [Fact]
    public async Task Identify_LivePipe_WritesEachResultBeforeTheNextSpectrumComes()
    {
        // `tail -f x.jsonl | xrfedge identify -`: until 2026-11-25 results were written per model batch (256 spectra) or at
        // the end of the input, so a live pipe showed nothing until 256 spectra had come. Now a batch also goes to the
        // model when the input has been quiet for IdentifyCommand.QuietFlush with spectra waiting. Nothing more is written
        // until each result has been read, so a child that held its results would fail on the timeout.
        using var timeout = new CancellationTokenSource(Patience);
        var start = XrfEdgeProcess.StartInfo("identify", "-", "--json", "--model", RepositoryRoot.TestModel);
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        var spectra = BenchmarkSpectra.Create(3, seed: 3);
        var ids = new List<string>();
        foreach (var spectrum in spectra)
        {
            SpectrumJsonl.Write(process.StandardInput.BaseStream, Labelled(spectrum));
            process.StandardInput.BaseStream.Flush();
            var row = await process.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.NotNull(row);
            ids.Add(JsonDocument.Parse(row).RootElement.GetProperty("id").GetString()!);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.Equal(spectra.Select(s => s.Id), ids);
        Assert.Equal(string.Empty, await process.StandardOutput.ReadToEndAsync(timeout.Token));
    }

    [Fact]
    public async Task Identify_SigIntOnAQuietFifoNamedAsAFile_ExitsAt130WithoutWaitingForTheNextLine()
    {
        // A named pipe given as a FILE (not '-') is read by a plain blocking read, which the token cannot end: until
        // 2026-11-25 Ctrl-C took effect only with the writer's next line or the end. Reading now runs on a thread of its
        // own (ReadAhead), which the stop gives up after ReadAhead.StopGrace, with the spectra read before it identified.
        var fifo = Fifo();
        using var timeout = new CancellationTokenSource(Patience);
        using var process = XrfEdgeProcess.Start("identify", fifo, "--json", "--model", RepositoryRoot.TestModel);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        bool endedWhileQuiet;
        await using (var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
        {
            WriteSpectra(pipe, 1);
            // Its result comes while the pipe is quiet and open (the live flush above): the child is now in the read.
            Assert.NotNull(await process.StandardOutput.ReadLineAsync(timeout.Token));
            await SignalAsync(process, "-INT", timeout.Token);
            using var quiet = new CancellationTokenSource(QuietAtMost);
            endedWhileQuiet = await EndsWithinAsync(process, quiet.Token);
        }

        await process.WaitForExitAsync(timeout.Token);

        Assert.True(endedWhileQuiet, $"still running {QuietAtMost.TotalSeconds} s after SIGINT on a quiet FIFO; then exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.Contains("xrfedge identify: interrupted after 1 spectra", await error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await process.StandardOutput.ReadToEndAsync(timeout.Token));
    }

    /// <summary>How long a child on a quiet pipe has to end after SIGINT: the failure's cost, not a measurement.</summary>
    private static readonly TimeSpan QuietAtMost = TimeSpan.FromSeconds(20);

    private static async Task<bool> EndsWithinAsync(Process process, CancellationToken cancellationToken)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Identify_StdoutClosedByItsReader_StopsReadingAndExits141WithoutAStackTrace()
    {
        // `xrfedge identify FILE --json | head -1`: head exits after one line and the rest of the output meets a closed
        // pipe (EPIPE). Until 2026-11-24 Console.Out took EPIPE for success (the runtime ignores SIGPIPE), and the verb
        // identified all of its input for nobody and exited 0. The input is a named pipe fed until the child closes it: a
        // child that ignores the closed stdout reads on until FeedAtMost and then exits 0 at the end of its input.
        var fifo = Fifo();
        using var timeout = new CancellationTokenSource(Patience);
        using var process = XrfEdgeProcess.Start("identify", fifo, "--json", "--model", RepositoryRoot.TestModel);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        bool stoppedReading;
        await using (var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
        {
            // 300 spectra: the first batch of 256 is written (rows of a few KiB: more than the 64 KiB pipe buffer).
            var writing = Task.Run(() => WriteSpectra(pipe, 300), timeout.Token);
            var first = await process.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.StartsWith("bench-", JsonDocument.Parse(first!).RootElement.GetProperty("id").GetString(), StringComparison.Ordinal);
            process.StandardOutput.Close();
            try
            {
                await writing;
            }
            catch (IOException)
            {
                // The child had already stopped reading.
            }

            stoppedReading = FeedUntilClosed(pipe, process);
        }

        await process.WaitForExitAsync(timeout.Token);

        Assert.True(stoppedReading, $"read on for {FeedAtMost.TotalSeconds} s into a closed stdout; exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.True(process.ExitCode == 141, $"exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.DoesNotContain("Unhandled exception", await error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", await error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rebin_StdoutClosedByItsReader_Exits141WithoutAStackTrace()
    {
        // 100 rows of 300 bins (a few KiB each) overflow the 64 KiB pipe buffer, so writes do meet the closed pipe.
        var input = Path.Combine(_dir, "many.jsonl");
        using (var file = File.Create(input))
        {
            WriteSpectra(file, 100);
        }

        using var timeout = new CancellationTokenSource(Patience);
        using var process = XrfEdgeProcess.Start("rebin", "--json", "--input", input);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        Assert.NotNull(await process.StandardOutput.ReadLineAsync(timeout.Token));
        process.StandardOutput.Close();
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 141, $"exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.DoesNotContain("   at ", await error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_JsonStdoutClosedBeforeTheReport_Exits141()
    {
        // eval writes one object at the end: stdout is closed before the child can have read its input (a named pipe the
        // test opens only afterwards), so the report's write meets the closed pipe. Exit 0 until 2026-11-24.
        var fifo = Fifo();
        using var timeout = new CancellationTokenSource(Patience);
        using var process = XrfEdgeProcess.Start("eval", "--json", "--input", fifo, "--model", RepositoryRoot.TestModel);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        process.StandardOutput.Close();
        await using (var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0))
        {
            WriteSpectra(pipe, 3);
        }

        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 141, $"exit {process.ExitCode}, stderr '{(await error).Trim()}'");
        Assert.DoesNotContain("   at ", await error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_SigInt_PrintsTheRowsMeasuredSoFarAndExits130()
    {
        using var timeout = new CancellationTokenSource(Patience);
        using var process = XrfEdgeProcess.Start("bench", "--quick", "--model", RepositoryRoot.TestModel);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        // bench writes one '.' to stderr per measurement: the first means the verb (and its signal handler) is running.
        var before = new System.Text.StringBuilder();
        var next = new char[1];
        while (await process.StandardError.ReadAsync(next, timeout.Token) == 1 && next[0] != '.')
        {
            before.Append(next[0]);
        }

        Assert.True(next[0] == '.', $"bench ended before its first measurement: '{before}'");
        await SignalAsync(process, "-INT", timeout.Token);
        var error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}, stderr '{error.Trim()}'");
        var said = System.Text.RegularExpressions.Regex.Match(error, @"xrfedge bench: interrupted after (\d+) of (\d+) measurements");
        Assert.True(said.Success, $"stderr '{error.Trim()}'");
        // The table holds one row per finished measurement (rows begin with the precision of the test model, int8).
        var rows = (await output).Split('\n').Count(line => line.StartsWith("int8", StringComparison.Ordinal) || line.StartsWith("fp32", StringComparison.Ordinal));
        Assert.Equal(int.Parse(said.Groups[1].Value, CultureInfo.InvariantCulture), rows);
        Assert.True(rows < int.Parse(said.Groups[2].Value, CultureInfo.InvariantCulture), "the signal came after every measurement");
    }
}

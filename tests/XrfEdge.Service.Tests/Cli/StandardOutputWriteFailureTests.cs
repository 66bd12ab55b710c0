using System.Diagnostics;
using System.Text.Json;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Service.Cli;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// The streaming verbs (<c>identify</c>, <c>eval</c>, <c>rebin</c>) with standard output redirected by a shell, as an
/// operator or a script runs them: onto /dev/full, which fails every write with ENOSPC as a full SD card does, and onto a
/// file shared with other commands. Until 2026-11-24 a failed write ended the verb with an unhandled-exception stack
/// trace (and exit 1, which for identify means "some spectra unreadable").
/// </summary>
public sealed class StandardOutputWriteFailureTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-stdout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Spectra(int count)
    {
        var path = Path.Combine(_dir, "in.jsonl");
        using var file = File.Create(path);
        foreach (var spectrum in BenchmarkSpectra.Create(count, seed: 3))
        {
            SpectrumJsonl.Write(file, new LabelledSpectrum(spectrum) { Elements = ["Fe", "Cu"], IgnoreElements = ["Rh", "Ar"] });
        }

        return path;
    }

    /// <summary>Runs <c>sh -c SCRIPT</c> with <c>$0</c> = xrfedge.dll and the arguments as <c>$@</c>; returns exit code and stderr.</summary>
    private static async Task<(int Code, string Error)> ShellAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "xrfedge.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var timeout = new CancellationTokenSource(Patience);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await error);
    }

    [Theory]
    [InlineData("identify")]
    [InlineData("eval")]
    [InlineData("rebin")]
    public async Task Verb_StdoutOnAFullDevice_OneLineNamingTheCauseAndExit74(string verb)
    {
        var input = Spectra(3);
        string[] args = verb == "rebin" ? [verb, "--json", "--input", input] : [verb, "--json", "--input", input, "--model", RepositoryRoot.TestModel];

        var (code, error) = await ShellAsync("""exec dotnet "$0" "$@" > /dev/full""", args);

        Assert.True(code == PipeStandardOutput.WriteFailedExitCode, $"exit {code}, stderr '{error.Trim()}'");
        Assert.Contains($"xrfedge {verb}: cannot write to standard output: No space left on device", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Identify_StdoutAFileSharedWithOtherCommands_WritesAtTheSharedOffset()
    {
        // `{ echo first; xrfedge identify …; echo last; } > out`: the three share one open file description. A writer
        // with an offset of its own (a FileStream on a seekable descriptor) would overwrite "first" and be overwritten
        // by "last"; the console's stream writes at the shared offset.
        var input = Spectra(5);
        var output = Path.Combine(_dir, "out.txt");

        var (code, error) = await ShellAsync(
            """{ echo first; dotnet "$0" "$@"; echo last; } > "$OUT" """.Replace("$OUT", output, StringComparison.Ordinal),
            "identify", "--json", "--input", input, "--model", RepositoryRoot.TestModel);

        Assert.True(code == 0, $"exit {code}, stderr '{error.Trim()}'");
        var lines = File.ReadAllLines(output);
        Assert.Equal(7, lines.Length);
        Assert.Equal("first", lines[0]);
        Assert.Equal("last", lines[^1]);
        Assert.All(lines[1..^1], line => Assert.StartsWith("bench-", JsonDocument.Parse(line).RootElement.GetProperty("id").GetString(), StringComparison.Ordinal));
    }
}

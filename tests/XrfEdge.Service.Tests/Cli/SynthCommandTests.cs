using XrfEdge.Service.Cli;
using XrfEdge.Synthesis;

namespace XrfEdge.Service.Tests.Cli;

public sealed class SynthCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "xrfedge-synth-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static (int Code, string Out, string Err) Run(long count, string profile, string format, string? output, string? plot = null, double labelSystematic = 0)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = SynthCommand.Run(count, 1, profile, format, output, 1, plot, 0, labelSystematic, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(0.7)]
    public void Run_LabelSystematicOutOfRange_ExitTwoNamingTheOption(double fraction)
    {
        var (code, _, err) = Run(5, "handheld-pin", "npy", _dir, labelSystematic: fraction);
        Assert.Equal(2, code);
        Assert.Contains("--label-systematic", err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir));
    }

    [Theory]
    [InlineData(1UL, true)] // the default: neighbouring spectra share random state (docs/synthesis.md)
    [InlineData(1001UL, false)] // the training set's seed
    public void Run_Seed_WarnsOnlyWhenSpectraShareRandomState(ulong seed, bool warned)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = SynthCommand.Run(20, seed, "handheld-pin", "jsonl", Path.Combine(_dir, "s.jsonl"), 1, null, 0, 0, stdout, stderr);

        Assert.Equal(0, code);
        Assert.Equal(warned, stderr.ToString().Contains("synth: warning: seed ", StringComparison.Ordinal));
        Assert.Equal(20, File.ReadLines(Path.Combine(_dir, "s.jsonl")).Count()); // a warning, never a refusal
    }

    [Fact]
    public void Run_NpyWithLabelSystematic_RecordsItInMeta()
    {
        var (code, _, _) = Run(3, "handheld-pin", "npy", _dir, labelSystematic: 0.02);
        Assert.Equal(0, code);
        Assert.Contains("\"label_systematic_fraction\": 0.02", File.ReadAllText(Path.Combine(_dir, "meta.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Npy_WritesTheSevenFilesAndMeta()
    {
        var (code, output, _) = Run(5, "handheld-pin", "npy", _dir);
        Assert.Equal(0, code);
        Assert.Contains("wrote 5 spectra", output, StringComparison.Ordinal);
        foreach (var f in new[] { "x.npy", "y_lines.npy", "y_elements.npy", "y_lines_paper.npy", "y_elements_in_sample.npy", "y_elements_ignore.npy", "tube_kv.npy", "line_net.npy", "line_background.npy", "meta.json" })
        {
            Assert.True(File.Exists(Path.Combine(_dir, f)), f);
        }

        // 128-byte npy header + 5 × 300 float32.
        Assert.Equal(128 + (5 * 300 * 4), new FileInfo(Path.Combine(_dir, "x.npy")).Length);
    }

    [Fact]
    public void Run_JsonlAndPlot_WritesBoth()
    {
        Directory.CreateDirectory(_dir);
        var jsonl = Path.Combine(_dir, "s.jsonl");
        var svg = Path.Combine(_dir, "s.svg");
        var (code, _, _) = Run(3, "benchtop", "jsonl", jsonl, svg);
        Assert.Equal(0, code);
        Assert.Equal(3, File.ReadAllLines(jsonl).Length);
        Assert.StartsWith("<svg", File.ReadAllText(svg), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnknownProfile_ExitCode2AndNamesProfiles()
    {
        var (code, _, error) = Run(3, "tabletop", "npy", _dir);
        Assert.Equal(2, code);
        Assert.Contains("unknown generator profile 'tabletop'", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void Run_NoOutputAndNoPlot_ExitCode2()
    {
        var (code, _, error) = Run(3, "randomized", "npy", null);
        Assert.Equal(2, code);
        Assert.Contains("--out", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SynthVerb_IsRegistered()
    {
        var parse = XrfEdgeCommandLine.Build().Parse(["synth", "--count", "2", "--format", "npy", "--out", "x"]);
        Assert.Empty(parse.Errors);
        Assert.Equal("synth", parse.CommandResult.Command.Name);
    }

    [Theory]
    // Reading a directory named *.json threw UnauthorizedAccessException, which escaped as an unhandled exception (exit 1,
    // a stack trace), then said "cannot be read: Access to the path … is denied"; a directory without .json was an
    // "unknown generator profile" (until 2026-11-24).
    [InlineData("profile.json")]
    [InlineData("profiles")]
    public void Run_ProfilePathIsADirectory_ExitTwoSayingItIsADirectory(string name)
    {
        var profile = Path.Combine(_dir, name);
        Directory.CreateDirectory(profile);

        var (code, _, err) = Run(2, profile, "jsonl", Path.Combine(_dir, "out.jsonl"));

        Assert.Equal(2, code);
        Assert.Contains($"--profile {profile} is a directory", err, StringComparison.Ordinal);
        Assert.Contains(GeneratorProfiles.DefaultName, err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "out.jsonl")));
    }

    [Fact]
    public void Run_ProfileFileNotEndingInJson_ExitTwoSayingAProfileIsAJsonFile()
    {
        // A data set given as the profile (an easy slip beside --out s.jsonl) was an "unknown generator profile 's.jsonl'"
        // (until 2026-11-24), as though the file had not been found.
        Directory.CreateDirectory(_dir);
        var profile = Path.Combine(_dir, "s.jsonl");
        File.WriteAllText(profile, "{}\n");

        var (code, _, err) = Run(2, profile, "jsonl", Path.Combine(_dir, "out.jsonl"));

        Assert.Equal(2, code);
        Assert.Contains($"--profile {profile} is not a .json profile", err, StringComparison.Ordinal);
        Assert.Contains(GeneratorProfiles.DefaultName, err, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PlotIsADirectory_ExitTwoSayingSoBeforeWritingTheSet()
    {
        // It said "cannot write …: Access to the path … is denied" after generating and writing the data set (until 2026-11-24).
        var plot = Path.Combine(_dir, "plots");
        Directory.CreateDirectory(plot);
        var data = Path.Combine(_dir, "s.jsonl");

        var (code, _, err) = Run(2, "handheld-pin", "jsonl", data, plot);

        Assert.Equal(2, code);
        Assert.Contains($"--plot {plot} is a directory", err, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", err, StringComparison.Ordinal);
        Assert.False(File.Exists(data));
    }

    [Fact]
    public void Run_Plot_WritesTheWholeSvgThroughATemporaryFileOverAnEarlierOne()
    {
        // The SVG is written through AtomicFile (since 2026-11-24): an earlier plot is replaced whole, no temporary file stays.
        Directory.CreateDirectory(_dir);
        var plot = Path.Combine(_dir, "a.svg");
        File.WriteAllText(plot, "earlier");

        var (code, _, _) = Run(1, "handheld-pin", "jsonl", null, plot);

        Assert.Equal(0, code);
        Assert.EndsWith("</svg>", File.ReadAllText(plot).TrimEnd(), StringComparison.Ordinal);
        Assert.Equal([plot], Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task Help_LabelSystematic_StatesItsDefaultOnce()
    {
        // "0 = Currie (default) [default: 0]": the description repeated the default System.CommandLine prints (until 2026-11-24).
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await XrfEdgeCommandLine.InvokeAsync(["synth", "--help"], output, error);

        Assert.Equal(0, code);
        var line = output.ToString().Split('\n').Single(l => l.Contains("--label-systematic", StringComparison.Ordinal));
        Assert.Contains("Currie", line, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(line, "default"));
    }

    [Fact]
    public void Run_NegativePlotIndex_ExitTwoNamingTheOption()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = SynthCommand.Run(1, 1, "handheld-pin", "jsonl", null, 1, Path.Combine(_dir, "a.svg"), -1, 0, stdout, stderr);

        Assert.Equal(2, code);
        Assert.Contains("--index", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PlotCannotBeWrittenAfterTheDataSet_ErrorNamesThePlot()
    {
        // The message named the .jsonl that had just been written, not the plot that failed.
        Directory.CreateDirectory(_dir);
        var data = Path.Combine(_dir, "ok.jsonl");
        var plot = Path.Combine(_dir, "missing-folder", "a.svg");

        var (code, _, err) = Run(2, "handheld-pin", "jsonl", data, plot);

        Assert.Equal(1, code);
        Assert.True(File.Exists(data));
        Assert.Contains("cannot write " + plot, err, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_IndependentOfASeedWhoseSetSharesState_ExitTwoNamingBothSeedsAndWritesNothing()
    {
        // Seeds 1001 and 1003 each pass SeedCheck alone, but their sets share state words (14,997 in 20,000 spectra
        // each): a validation set on 1003 beside a training set on 1001 is partly the same random streams. The
        // single-seed warning cannot see that; --independent-of checks it (since 2026-11-24).
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = SynthCommand.Run(20, 1003, "handheld-pin", "npy", _dir, 1, null, 0, 0, stdout, stderr, independentOf: [2002, 1001]);

        Assert.Equal(2, code);
        Assert.Contains("seed 1003", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("seed 1001", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("--independent-of", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void Run_IndependentOfDisjointSeeds_WritesTheSet()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = SynthCommand.Run(3, 2002, "handheld-pin", "npy", _dir, 1, null, 0, 0, stdout, stderr, independentOf: [1001, 7007]);

        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(_dir, "meta.json")));
    }

    [Fact]
    public void Parse_IndependentOf_TakesSeveralSeeds()
    {
        var parse = XrfEdgeCommandLine.Build().Parse(["synth", "--seed", "2002", "--independent-of", "1001", "7007", "--out", "x"]);

        Assert.Empty(parse.Errors);
        Assert.Equal([1001UL, 7007UL], parse.GetValue<ulong[]>("--independent-of")!);
    }

    [Theory]
    [InlineData("npy")]
    [InlineData("jsonl")]
    public void Run_Cancelled_Exit130SayingSoAndLeavesNoPartialSet(string format)
    {
        // Ctrl-C killed the process at once (System.CommandLine gives a synchronous action no token): no message, arrays
        // whose headers claimed every row, a FILE.jsonl.partial. Since 2026-11-24 SIGINT/SIGTERM cancel the writer.
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var output = format == "npy" ? _dir : Path.Combine(_dir, "s.jsonl");

        var code = SynthCommand.Run(3000, 1001, "handheld-pin", format, output, 1, null, 0, 0, stdout, stderr, cancellationToken: cancelled.Token);

        Assert.Equal(130, code);
        Assert.Contains("synth: interrupted", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(output, stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(_dir) ? Directory.GetFiles(_dir) : []);
    }

    [Fact]
    public void Run_NpyCancelled_RemovesTheFolderItCreated()
    {
        // The interrupted run left the empty folder (and any parents) it had created (until 2026-11-24).
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var output = Path.Combine(_dir, "sets", "train");

        var code = SynthCommand.Run(3000, 1001, "handheld-pin", "npy", output, 1, null, 0, 0, stdout, stderr, cancellationToken: cancelled.Token);

        Assert.Equal(130, code);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public void Run_NpyCancelled_KeepsAFolderThatExistedBefore()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Directory.CreateDirectory(_dir);

        var code = SynthCommand.Run(3000, 1001, "handheld-pin", "npy", _dir, 1, null, 0, 0, stdout, stderr, cancellationToken: cancelled.Token);

        Assert.Equal(130, code);
        Assert.True(Directory.Exists(_dir));
    }

    [Fact]
    public void Run_MalformedProfileFile_ExitTwoNamingTheFileWithoutInternalParameterNames()
    {
        // The message ended in "(Parameter 'json')", a name from inside the loader that means nothing to the user.
        Directory.CreateDirectory(_dir);
        var profile = Path.Combine(_dir, "broken.json");
        File.WriteAllText(profile, "{\"name\": \"x\", ");

        var (code, _, err) = Run(2, profile, "jsonl", Path.Combine(_dir, "out.jsonl"));

        Assert.Equal(2, code);
        Assert.Contains(profile, err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter '", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "out.jsonl")));
    }
}

using XrfEdge.Devices.Simulation;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Cli;

public sealed class McaSimCommandTests
{
    [Fact]
    public void CreateSource_GeneratorProfile_SpectrumScaledToRequestedDuration()
    {
        var source = McaSimCommand.CreateSource("handheld-sdd", 11);
        var shortRun = source(new SimulatedSpectrumRequest(0, 2048, TimeSpan.FromSeconds(1)));
        var longRun = source(new SimulatedSpectrumRequest(0, 2048, TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(1), shortRun.LiveTime);
        Assert.True(shortRun.TotalCounts > 0);

        // Same index and seed = same draw; ten times the duration = ten times the counts, up to per-channel rounding.
        Assert.InRange(longRun.TotalCounts, (10 * shortRun.TotalCounts) - (10 * shortRun.Counts.Length), (10 * shortRun.TotalCounts) + (10 * shortRun.Counts.Length));
    }

    [Fact]
    public void CreateSource_Example_IsDeterministicInSeedAndIndex()
    {
        var a = McaSimCommand.CreateSource("example", 2)(new SimulatedSpectrumRequest(3, 1024, TimeSpan.FromSeconds(5)));
        var b = McaSimCommand.CreateSource("example", 2)(new SimulatedSpectrumRequest(3, 1024, TimeSpan.FromSeconds(5)));
        Assert.Equal(a.Counts, b.Counts);
    }

    [Theory]
    [InlineData("handheld-sdd", "melted", 3, "unknown --fault")]
    [InlineData("no-such-profile", "none", 3, "no-such-profile")]
    [InlineData("example", "none", 0, "--fault-every")]
    public async Task RunAsync_BadArguments_ExitTwoWithReason(string profile, string fault, int every, string expected)
    {
        var stderr = new StringWriter();
        var rc = await McaSimCommand.RunAsync(Path.Combine(Path.GetTempPath(), "xrfedge-never"), profile, 1, fault, every, null, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(2, rc);
        Assert.Contains(expected, stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LinkIsADirectory_ExitTwoNamingItAndLeavingNothing()
    {
        var dir = Directory.CreateTempSubdirectory("xrfedge-mcasim-dir-").FullName;
        try
        {
            var stderr = new StringWriter();
            var rc = await McaSimCommand.RunAsync(dir, "example", 1, "none", 3, null, new StringWriter(), stderr, CancellationToken.None);
            Assert.Equal(2, rc);
            Assert.Contains($"--link {dir} is a directory", stderr.ToString(), StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
            Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(dir)!, Path.GetFileName(dir) + ".tmp-*"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Process_SigInt_RemovesTheLinkAndExitsZero()
    {
        // The real process and signal: the link is removed only if System.CommandLine cancels the action's token.
        var link = Path.Combine(Path.GetTempPath(), $"xrfedge-mcasim-sigint-{Environment.ProcessId}-{Guid.NewGuid():N}");
        using var process = XrfEdgeProcess.Start("mca-sim", "--link", link, "--profile", "example");
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ready = await process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.StartsWith("mca-sim: simulated DP5 on", ready, StringComparison.Ordinal);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync(timeout.Token);
        }

        var rest = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}, stderr '{(await stderrTask).Trim()}'");
        Assert.Contains("mca-sim: stopped after", rest, StringComparison.Ordinal);
        Assert.False(Path.Exists(link) || new FileInfo(link).LinkTarget is not null, $"{link} left behind");
    }

    [Fact]
    public async Task RunAsync_Cancelled_StopsAndRemovesTheLink()
    {
        var link = Path.Combine(Path.GetTempPath(), $"xrfedge-mcasim-{Environment.ProcessId}-{Guid.NewGuid():N}");
        using var cts = new CancellationTokenSource();
        var stdout = new StringWriter();
        var run = McaSimCommand.RunAsync(link, "example", 1, "none", 3, null, stdout, new StringWriter(), cts.Token);
        await cts.CancelAsync();
        Assert.Equal(0, await run);
        Assert.False(File.Exists(link));
    }
}

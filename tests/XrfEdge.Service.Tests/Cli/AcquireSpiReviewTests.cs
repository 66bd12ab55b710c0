using System.Diagnostics;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// Review (branch review-spi): hostile arguments and Ctrl-C for <c>xrfedge acquire --protocol spi</c>.
/// These tests state the wanted behaviour and FAIL on the reviewed code.
/// </summary>
public sealed class AcquireSpiReviewTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-review-spi-").FullName;

    private static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XrfEdge.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException("repository root not found");
    }

    /// <summary><c>--preset-s NaN</c> slips past "p &lt;= 0 || p &gt; 86400" (NaN compares false) and TimeSpan.FromSeconds throws outside the try.</summary>
    [Fact]
    public async Task Acquire_PresetNaN_IsAUsageErrorNotAnUnhandledException()
    {
        var stderr = new StringWriter();
        var e = await Record.ExceptionAsync(async () =>
        {
            var rc = await AcquireCommand.RunAsync("simulated", "spi", RepositoryFile("firmware-config", "simulator.json"), double.NaN, 1, null, false, new StringWriter(), stderr, CancellationToken.None);
            Assert.Equal(2, rc);
        });
        Assert.True(e is null, $"unhandled: {e?.GetType().Name}: {e?.Message}");
        Assert.Contains("--preset-s", stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>--out</c> in a missing directory: the measurement runs in full, then the write throws DirectoryNotFoundException
    /// outside the try, the process dies with a stack trace and the measured spectrum is lost. Wanted: refused up front (exit 2).
    /// </summary>
    [Fact]
    public async Task Acquire_OutputInMissingDirectory_RefusedUpFrontNamingThePath()
    {
        var output = Path.Combine(_dir, "no-such-dir", "out.jsonl");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int? rc = null;
        var e = await Record.ExceptionAsync(async () => rc = await AcquireCommand.RunAsync("simulated", "spi", RepositoryFile("firmware-config", "simulator.json"), 0.2, 1, output, false, stdout, stderr, CancellationToken.None));
        Assert.True(e is null, $"unhandled after measuring ({stdout.ToString().Trim()}): {e?.GetType().Name}: {e?.Message}");
        Assert.Equal(2, rc);
        Assert.Contains(output, stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Ctrl-C (SIGINT) after the first of five measurements: the verb's OperationCanceledException branch is meant to print
    /// "cancelled after 1 measurement(s)" and write what was measured. Program.cs invokes System.CommandLine 2.0.0 without
    /// a ProcessTerminationTimeout, so the token never fires: SIGINT kills the process, the file is never written.
    /// </summary>
    [Fact]
    public async Task Acquire_SigIntAfterFirstMeasurement_WritesWhatWasMeasured()
    {
        var output = Path.Combine(_dir, "out.jsonl");
        using var process = XrfEdgeProcess.Start("acquire", "--protocol", "spi", "--device", "simulated", "--config", RepositoryFile("firmware-config", "simulator.json"), "--preset-s", "1", "--count", "5", "--out", output);
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var first = await process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.StartsWith("simulated#1:", first, StringComparison.Ordinal);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync(timeout.Token);
        }

        await process.WaitForExitAsync(timeout.Token);
        var stderr = await stderrTask;
        Assert.True(File.Exists(output), $"exit {process.ExitCode} (128+2 = killed by SIGINT), stderr '{stderr.Trim()}', {output} not written: the measured spectrum is lost");
        Assert.Single(SpectrumJsonl.ReadFile(output));
        Assert.Contains("cancelled after 1 measurement(s)", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

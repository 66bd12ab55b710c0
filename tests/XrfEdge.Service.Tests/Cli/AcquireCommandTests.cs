using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Devices.Simulation;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// The acquire verb end to end against the simulated DP5 on a real pty, with the shipped simulator profile (for the DP5
/// runs with a 5 s reply time-out: <see cref="SimulatorProfile.WithTolerantReplies"/>).
/// </summary>
public sealed class AcquireCommandTests : IDisposable
{
    /// <summary>Bound on one verb run against the simulated DP5: generous, for a loaded 2-core CI machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-acquire-").FullName;

    private string Link => Path.Combine(_dir, "ttyDP5");

    /// <summary>
    /// The simulated DP5 on a pty link in this process, for the verb to open like /dev/ttyUSB0; <c>await using</c> stops it
    /// (until 2026-11-24 it was never stopped: disposing its 60 s CancellationTokenSource disposed the timer, so it served
    /// and held a pool thread for the rest of the run, two of them per run of this class).
    /// </summary>
    private Task<ServedDp5> StartSimulatorAsync() =>
        ServedDp5.StartAsync(Link, new SimulatedDp5(new SimulatedDp5Options(), McaSimCommand.CreateSource("example", 5), TimeProvider.System));

    [Fact]
    public async Task Acquire_TwoMeasurementsToJsonl_WritesCalibratedSpectraWithStatus()
    {
        await using var dp5 = await StartSimulatorAsync();
        using var patience = new CancellationTokenSource(Patience);
        var output = Path.Combine(_dir, "out.jsonl");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync(Link, null, SimulatorProfile.WithTolerantReplies(_dir), 0.2, 2, output, json: true, stdout, stderr, patience.Token);
        Assert.True(rc == 0, $"{stderr}; {dp5.Describe()}");
        var results = SpectrumJsonl.ReadFile(output).ToList();
        Assert.Equal(2, results.Count);
        foreach (var result in results)
        {
            var spectrum = Assert.IsType<LabelledSpectrum>(result.Spectrum).Spectrum;

            // simulator.json: MCAC 2048, offset −0.02 keV, gain 0.0146484375 keV/channel (30 keV / 2048).
            Assert.Equal(2048, spectrum.Counts.Length);
            Assert.Equal(0.0146484375, spectrum.Calibration.GainKeVPerChannel);
            Assert.Equal(0.2, spectrum.LiveTime!.Value.TotalSeconds, 6);
            Assert.True(spectrum.TotalCounts > 0);
        }

        Assert.Equal(2, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("\"device_type\":\"Dp5\"", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquire_ToMca_FileReadsBackWithSameCounts()
    {
        await using var dp5 = await StartSimulatorAsync();
        using var patience = new CancellationTokenSource(Patience);
        var output = Path.Combine(_dir, "out.mca");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync(Link, "dp5", SimulatorProfile.WithTolerantReplies(_dir), 0.2, 1, output, json: false, stdout, stderr, patience.Token);
        Assert.True(rc == 0, $"{stderr}; {dp5.Describe()}");
        using var reader = new StreamReader(output, Encoding.Latin1);
        var read = AmptekMcaReader.Read(reader, output);
        var spectrum = Assert.IsType<LabelledSpectrum>(read.Spectrum).Spectrum;
        Assert.Equal(2048, spectrum.Counts.Length);
        Assert.Contains("2048 channels", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquire_MissingDevice_ExitsOneNamingThePath()
    {
        var stderr = new StringWriter();
        var missing = Path.Combine(_dir, "no-such-tty");
        var rc = await AcquireCommand.RunAsync(missing, null, SimulatorProfile.Shipped, 0.2, 1, null, false, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(1, rc);
        Assert.Contains(missing, stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquire_BadOutputExtension_UsageErrorTwo()
    {
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync("/dev/null", null, SimulatorProfile.Shipped, 1, 1, "x.csv", false, new StringWriter(), stderr, CancellationToken.None);
        Assert.Equal(2, rc);
        Assert.Contains(".jsonl or .mca", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acquire_SimulatedSpi_MeasuresThroughTheFrameProtocol()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync("simulated", "spi", SimulatorProfile.Shipped, 0.1, 1, null, false, stdout, stderr, CancellationToken.None);
        Assert.True(rc == 0, stderr.ToString());
        Assert.Contains("2048 channels", stdout.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spi", 0.0004, "at least 0.001")] // rounds to 0 ms: an SPI START with preset 0 means "no preset"
    [InlineData("dp5", 0.04, "at least 0.1")] // PRET=0.0 is OFF on the DP5
    [InlineData("spi", double.PositiveInfinity, "at most 86400")]
    [InlineData("spi", -1.0, "at least 0.001")]
    public async Task Acquire_PresetOutOfRange_UsageErrorTwoBeforeMeasuring(string protocol, double presetSeconds, string expected)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync("simulated", protocol, SimulatorProfile.Shipped, presetSeconds, 1, null, false, stdout, stderr, CancellationToken.None);
        Assert.Equal(2, rc);
        Assert.Contains("--preset-s", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(expected, stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public async Task Acquire_OutputIsADirectory_UsageErrorTwoNamingIt()
    {
        var output = Directory.CreateDirectory(Path.Combine(_dir, "looks-like.jsonl")).FullName;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync("simulated", "spi", SimulatorProfile.Shipped, 0.1, 1, output, false, stdout, stderr, CancellationToken.None);
        Assert.Equal(2, rc);
        Assert.Contains($"--out {output} is a directory", stderr.ToString(), StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }

    [Fact]
    public async Task Acquire_SimulatedSpiToJsonl_WritesThroughATemporaryFileAndLeavesOnlyTheOutput()
    {
        var output = Path.Combine(_dir, "spi.jsonl");
        var stderr = new StringWriter();
        var rc = await AcquireCommand.RunAsync("simulated", "spi", SimulatorProfile.Shipped, 0.1, 2, output, false, new StringWriter(), stderr, CancellationToken.None);
        Assert.True(rc == 0, stderr.ToString());
        Assert.Equal(2, SpectrumJsonl.ReadFile(output).Count());
        Assert.Equal([output], Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task Acquire_OutputDirectoryRemovedWhileMeasuring_ExitOneNamingThePath()
    {
        // The directory passes the up-front check, then goes away (a USB stick pulled) during the second measurement.
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "stick")).FullName;
        var output = Path.Combine(folder, "out.jsonl");
        var stdout = new FirstLineWriter();
        var stderr = new StringWriter();
        var run = AcquireCommand.RunAsync("simulated", "spi", SimulatorProfile.Shipped, 0.5, 2, output, false, stdout, stderr, CancellationToken.None);
        await stdout.FirstLine.WaitAsync(TimeSpan.FromSeconds(30));
        Directory.Delete(folder, recursive: true);

        var rc = await run;

        Assert.Equal(1, rc);
        Assert.Contains($"acquire: could not write {output}", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_SigTermDuringSecondMeasurement_StopsAndWritesWhatWasMeasured()
    {
        // SIGTERM (systemd, a container runtime) takes the same path as Ctrl-C: System.CommandLine cancels the token.
        var output = Path.Combine(_dir, "sigterm.jsonl");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "xrfedge.dll"), "acquire", "--protocol", "spi", "--device", "simulated", "--config", SimulatorProfile.Shipped, "--preset-s", "1", "--count", "5", "--out", output })
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.StartsWith("simulated#1:", await process.StandardOutput.ReadLineAsync(timeout.Token), StringComparison.Ordinal);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync(timeout.Token);
        }

        await process.WaitForExitAsync(timeout.Token);
        var stderr = await stderrTask;
        Assert.Contains("cancelled after 1 measurement(s)", stderr, StringComparison.Ordinal);
        Assert.Equal(1, process.ExitCode); // not every measurement ran (docs/acquisition.md)
        Assert.Single(SpectrumJsonl.ReadFile(output));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A StringWriter that says when the first line was written (acquire reports each measurement with one line).</summary>
    private sealed class FirstLineWriter : StringWriter
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstLine => _first.Task;

        public override async Task WriteLineAsync(string? value)
        {
            await base.WriteLineAsync(value).ConfigureAwait(false);
            _first.TrySetResult();
        }
    }
}

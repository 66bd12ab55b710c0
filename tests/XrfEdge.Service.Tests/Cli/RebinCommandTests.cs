using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Service.Cli;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Cli;

public sealed class RebinCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-rebin-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exit = XrfEdgeCommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private string WriteJsonl(params string[] extraLines)
    {
        // 400 channels centred on 0.05 + 0.1·c keV: channel c is model bin c; channels 300–399 lie above 30 keV.
        var raw = new RawSpectrum { Id = "grid", Counts = Enumerable.Range(0, 400).Select(c => (long)c).ToArray(), Calibration = new EnergyCalibration(0.05, 0.1) };
        var path = Path.Combine(_folder, "in.jsonl");
        File.WriteAllLines(path, [SpectrumJsonl.ToJsonLine(new LabelledSpectrum(raw)), .. extraLines]);
        return path;
    }

    [Fact]
    public void Rebin_JsonOnGridSpectrum_PrintsExactCountsOutsideAndTotal()
    {
        var (exit, output, _) = Invoke("rebin", "--input", WriteJsonl(), "--json");

        Assert.Equal(0, exit);
        using var line = JsonDocument.Parse(output.Trim());
        var root = line.RootElement;
        Assert.Equal("grid", root.GetProperty("id").GetString());
        var counts = root.GetProperty("counts").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(Enumerable.Range(0, 300).Select(c => (double)c), counts);
        // Channels 300–399 hold Σ c = 34 950 counts, all above 30 keV; Σ 0…399 = 79 800.
        Assert.Equal(34_950, root.GetProperty("counts_outside_kev_range").GetDouble());
        Assert.Equal(79_800, root.GetProperty("total_counts").GetInt64());
    }

    [Fact]
    public void Rebin_JsonWithBadLine_ErrorLineInOrderAndExitOne()
    {
        var (exit, output, _) = Invoke("rebin", "--input", WriteJsonl("{\"id\":\"bad\",\"counts\":[1]}"), "--json");

        var lines = output.Trim().Split('\n');
        Assert.Equal(1, exit);
        Assert.Equal(2, lines.Length);
        using var error = JsonDocument.Parse(lines[1]);
        Assert.Equal("bad", error.RootElement.GetProperty("id").GetString());
        Assert.Contains("in.jsonl line 2: counts has 1 channels", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Rebin_JsonWithBadLine_AlsoNamesItOnStderrWithACount()
    {
        // Until 2026-11-24 --json put the error only into the stdout stream: with stdout redirected nothing was shown, and
        // nothing said how many spectra were missing from the result.
        var (exit, _, errors) = Invoke("rebin", "--input", WriteJsonl("{\"id\":\"bad\",\"counts\":[1]}"), "--json");

        Assert.Equal(1, exit);
        Assert.Contains("in.jsonl line 2: counts has 1 channels", errors, StringComparison.Ordinal);
        // WriteJsonl: one good spectrum, then the bad line.
        Assert.Contains("1 of 2 spectra could not be rebinned", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Rebin_CsvWithoutCalibration_FailsUntilOneIsGiven()
    {
        var path = Path.Combine(_folder, "counts.csv");
        File.WriteAllLines(path, Enumerable.Range(0, 64).Select(c => c.ToString(CultureInfo.InvariantCulture)));

        var without = Invoke("rebin", "-i", path);
        var with = Invoke("rebin", "-i", path, "--offset-kev", "0.05", "--gain-kev-per-channel", "0.1");

        Assert.Equal(1, without.ExitCode);
        Assert.Contains("has no energy calibration; give one with --offset-kev and --gain-kev-per-channel", without.Error, StringComparison.Ordinal);
        Assert.Equal(0, with.ExitCode);
        // Table: a comment line, a header, then 300 bins; bin 63 = [6.3, 6.4) keV holds channel 63's 63 counts.
        var rows = with.Output.Trim().Split('\n');
        Assert.Equal(302, rows.Length);
        Assert.Equal("63        6.3        6.4  63", rows[2 + 63].Trim());
    }

    [Fact]
    public void Rebin_OffsetWithoutGain_IsAUsageError()
    {
        var (exit, _, error) = Invoke("rebin", "-i", WriteJsonl(), "--offset-kev", "0");

        Assert.NotEqual(0, exit);
        Assert.Contains("--offset-kev and --gain-kev-per-channel must be given together", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Rebin_MissingFile_ErrorNamesThePath()
    {
        var path = Path.Combine(_folder, "nope.mca");

        var (exit, output, _) = Invoke("rebin", "-i", path, "--json");

        Assert.Equal(1, exit);
        Assert.Contains(path + ": cannot open file", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Rebin_EmptyJsonl_SaysNoSpectra()
    {
        var path = Path.Combine(_folder, "empty.jsonl");
        File.WriteAllText(path, "\n");

        var (exit, _, error) = Invoke("rebin", "-i", path);

        Assert.Equal(1, exit);
        Assert.Contains("the file holds no spectra", error, StringComparison.Ordinal);
    }
}

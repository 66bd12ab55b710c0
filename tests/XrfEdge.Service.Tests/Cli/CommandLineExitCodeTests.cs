using XrfEdge.Service.Cli;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// A command line the parser refuses (missing required option, a value of the wrong type, an unknown option) exits with
/// the code each verb documents for bad arguments, with the parser's message on stderr.
/// </summary>
public sealed class CommandLineExitCodeTests
{
    [Theory]
    // docs/acquisition.md: "2 usage or profile error"; 1 there means a device/link failure.
    [InlineData(2, "acquire", "--device", "/dev/null", "--count", "abc")]
    // docs/acquisition.md (mca-sim): a bad --link is "a usage error, exit 2"; so is a missing one.
    [InlineData(2, "mca-sim")]
    // docs/synthesis.md: "2 bad arguments or invalid profile".
    [InlineData(2, "synth", "--count", "abc", "--seed", "1", "--format", "npy", "--out", "x")]
    // docs/inference.md §6: "2 = no usable model / bad arguments"; 1 there means some spectra unreadable.
    [InlineData(2, "eval")]
    // docs/inference.md, identify: "2 = no usable model / bad arguments"; 1 there means some spectra unreadable, so a
    // script reading 1 as "partial results" took a mistyped option for them (until 2026-11-24: no file given, an
    // unknown option, or a bad --anode exited 1).
    [InlineData(2, "identify")]
    [InlineData(2, "identify", "x.mca", "--anode", "rh")]
    [InlineData(2, "identify", "x.mca", "--no-such-option")]
    // The other verbs follow the same rule since 2026-11-24 (README, "Command-line reference"): 1 there means something
    // else too. rebin: some spectra failed (docs/spectrum-files.md), and identify, which shares its reading options, already
    // gave 2 for the same "--offset-kev without --gain-kev-per-channel". bench: it exits 2 for an unusable model (as
    // identify and eval do) but exited 1 for a mistyped option. model inspect: 1 = the model is refused.
    [InlineData(2, "rebin")]
    [InlineData(2, "rebin", "-i", "x.mca", "--offset-kev", "0")]
    [InlineData(2, "bench", "--no-such-option")]
    [InlineData(2, "model", "inspect", "--no-such-option")]
    [InlineData(2, "model")]
    [InlineData(2, "catalog", "--no-such-option")]
    // README: outbox export "1 bad arguments" (2 = not an outbox) keeps 1.
    [InlineData(1, "outbox")]
    // docs/service.md: run's usage error is 78 (EX_CONFIG) like an invalid profile, so that the unit's
    // RestartPreventExitStatus=78 stops Restart=on-failure from retrying a command line no restart can fix; until
    // 2026-11-24 it was 1, restarted every 5 s until the start limit, then every 10 min by xrfedge-retry.timer.
    [InlineData(RunCommand.InvalidConfiguration, "run")]
    [InlineData(RunCommand.InvalidConfiguration, "run", "--config", "x.json", "--no-such-option")]
    [InlineData(RunCommand.InvalidConfiguration, "run", "--config")]
    // README: outbox export "1 bad arguments".
    [InlineData(1, "outbox", "export", "--db", "x.db")]
    public async Task ParseError_ExitsWithTheVerbsDocumentedUsageCode(int expected, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int rc = await XrfEdgeCommandLine.InvokeAsync(args, output, error);

        Assert.Equal(expected, rc);
        Assert.NotEqual("", error.ToString().Trim()); // the parser's sentence, e.g. "Option '--link' is required."
    }

    [Theory]
    // A calibration no spectrum can have: until 2026-11-24 NaN and ±Infinity passed the "must be positive" check (NaN > 0
    // is false, but so is NaN <= 0) and every spectrum was then reported unreadable (exit 1, "some spectra unreadable").
    [InlineData("rebin", "--gain-kev-per-channel", "NaN")]
    [InlineData("rebin", "--offset-kev", "Infinity")]
    [InlineData("identify", "--gain-kev-per-channel", "Infinity")]
    [InlineData("identify", "--quadratic-kev-per-channel2", "NaN")]
    public async Task NonFiniteCalibrationOption_IsAUsageErrorNamingTheOption(string verb, string option, string value)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var calibration = new Dictionary<string, string>
        {
            ["--offset-kev"] = "0",
            ["--gain-kev-per-channel"] = "0.01",
            ["--quadratic-kev-per-channel2"] = "0",
        };
        calibration[option] = value;
        string[] args = [verb, "-i", "x.csv", .. calibration.SelectMany(o => new[] { o.Key, o.Value })];

        int rc = await XrfEdgeCommandLine.InvokeAsync(args, output, error);

        Assert.Equal(2, rc);
        Assert.Contains($"{option} must be a finite number, got {value}", error.ToString(), StringComparison.Ordinal);
    }
}

using System.CommandLine;
using System.Runtime.InteropServices;

namespace XrfEdge.Service.Cli;

/// <summary>The <c>xrfedge</c> command tree. Each verb lives in its own <c>*Command</c> file; this lists them.</summary>
internal static class XrfEdgeCommandLine
{
    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("XrfEdge — on-instrument XRF element identification");
        root.Subcommands.Add(CatalogCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(RebinCommand.Create());
        root.Subcommands.Add(SynthCommand.Create());
        root.Subcommands.Add(IdentifyCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(McaSimCommand.Create());
        root.Subcommands.Add(AcquireCommand.Create());
        root.Subcommands.Add(OutboxCommand.Create());
        return root;
    }

    /// <summary>
    /// Runs a verb's action with SIGINT/SIGTERM cancelling its token from the action's first line. System.CommandLine
    /// starts the action and only then registers its own signal handler (ProcessTerminationHandler is given the started
    /// task), so a signal that came while the action's synchronous start ran (mca-sim printing its "ready" line) killed
    /// the process with 130 and left its link behind; seen under load in McaSimCommandTests. Both handlers may run: they
    /// only cancel, and System.CommandLine still ends the process after <see cref="TerminationGracePeriod"/>.
    /// </summary>
    internal static async Task<int> CancelledOnTerminationAsync(Func<CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return await action(cancel.Token).ConfigureAwait(false);

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }
    }

    /// <summary>
    /// How long a verb that handles cancellation has after Ctrl-C/SIGTERM before the process exits anyway (130/143):
    /// 5 s, enough for a STOP/disable with its 2 s budget and writing the spectra measured so far.
    /// </summary>
    internal static readonly TimeSpan TerminationGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Parses and runs <paramref name="args"/>. System.CommandLine 2.0.0 cancels an action's token on SIGINT/SIGTERM only
    /// when <see cref="InvocationConfiguration.ProcessTerminationTimeout"/> is set (dotnet/command-line-api#2684); without
    /// it the runtime's default handling kills the process and no cleanup runs. It is set for the verbs whose cleanup
    /// needs the token (acquire: stop the MCA, write what was measured; mca-sim: remove its link) and left unset for
    /// <c>run</c>: the Generic Host's console lifetime handles SIGTERM/Ctrl-C itself with its ordered shutdown, and a
    /// second handler would end the process with 143 after the grace period while the host is still draining.
    /// </summary>
    public static Task<int> InvokeAsync(string[] args) => InvokeAsync(args, null, null);

    /// <summary><see cref="InvokeAsync(string[])"/> writing to <paramref name="output"/>/<paramref name="error"/> instead of the console (tests).</summary>
    internal static async Task<int> InvokeAsync(string[] args, TextWriter? output, TextWriter? error)
    {
        var parse = Build().Parse(args);
        var configuration = new InvocationConfiguration
        {
            ProcessTerminationTimeout = parse.CommandResult.Command.Name is AcquireCommand.Name or McaSimCommand.Name ? TerminationGracePeriod : null,
        };
        // The verbs that stream results end at a reader that has gone (PipeStandardOutput); help and parse errors keep
        // the console's writer, on which a closed pipe stays silent.
        var pipe = output is null && parse.Errors.Count == 0 && StopsAtClosedOutput.Contains(parse.CommandResult.Command.Name)
            && parse.Action == parse.CommandResult.Command.Action
            ? PipeStandardOutput.TryOpen()
            : null;
        output ??= pipe;
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        try
        {
            return await InvokeCheckedAsync(parse, configuration).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                pipe?.Dispose();
            }
            catch (IOException ex) when (ex is StandardOutputClosedException or StandardOutputWriteException)
            {
                // Nothing is left to tell a reader that has gone; a failed write has been reported by the verb.
            }
        }
    }

    /// <summary>
    /// The verbs whose redirected standard output ends them at the first write that fails: a pipe whose reader has gone
    /// (exit <see cref="PipeStandardOutput.ClosedExitCode"/>), or any other failed write, a full disk (exit
    /// <see cref="PipeStandardOutput.WriteFailedExitCode"/>; docs/inference.md §6, docs/spectrum-files.md).
    /// </summary>
    private static readonly HashSet<string> StopsAtClosedOutput = new(StringComparer.Ordinal) { "identify", "eval", "rebin" };

    /// <summary>
    /// The verbs whose bad arguments exit 2 (README, "Command-line reference"; docs/acquisition.md, docs/synthesis.md,
    /// docs/inference.md §6, docs/spectrum-files.md); there 1 means something else (a device failure, unreadable spectra,
    /// a refused model). System.CommandLine exits 1 for every parse error, so until 2026-11-24 <c>acquire --count abc</c>
    /// looked like a device failure; <c>identify</c>, <c>rebin</c>, <c>bench</c>, <c>model inspect</c> and
    /// <c>catalog</c> kept the parser's 1 until 2026-11-24 as well (<c>bench</c> while exiting 2 for an unusable model,
    /// <c>rebin</c> while <c>identify</c> gave 2 for the same reading options). Only <c>outbox</c> (2 = not an outbox)
    /// keeps 1, as documented for it; <c>run</c> exits <see cref="RunCommand.InvalidConfiguration"/> (see
    /// <see cref="InvokeCheckedAsync"/>). Keyed by the name of the command parsed: <c>model</c> alone, or its subcommand
    /// <c>inspect</c>.
    /// </summary>
    private static readonly HashSet<string> UsageErrorIsTwo = new(StringComparer.Ordinal)
    {
        AcquireCommand.Name, McaSimCommand.Name, "synth", "identify", "eval", "rebin", "bench", "model", "inspect", "catalog",
    };

    /// <summary>
    /// Runs the parsed command and maps a parse error to the verb's documented usage code. <c>run</c>'s is 78 (EX_CONFIG),
    /// as for an invalid profile, since 2026-11-24: its command line is the unit's <c>ExecStart=</c>, which no restart
    /// changes, and the unit's <c>RestartPreventExitStatus=78</c> keeps <c>Restart=on-failure</c> from retrying it every
    /// 5 s (the parser's 1 was a start-up failure to systemd: ten quick restarts, then one every 10 min).
    /// </summary>
    private static async Task<int> InvokeCheckedAsync(ParseResult parse, InvocationConfiguration configuration)
    {
        int rc = await parse.InvokeAsync(configuration).ConfigureAwait(false);
        if (parse.Errors.Count == 0)
        {
            return rc;
        }

        var verb = parse.CommandResult.Command.Name;
        return verb == RunCommand.Name ? RunCommand.InvalidConfiguration : UsageErrorIsTwo.Contains(verb) ? 2 : rc;
    }
}

using System.CommandLine;

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
    public static Task<int> InvokeAsync(string[] args)
    {
        var parse = Build().Parse(args);
        var configuration = new InvocationConfiguration
        {
            ProcessTerminationTimeout = parse.CommandResult.Command.Name is AcquireCommand.Name or McaSimCommand.Name ? TerminationGracePeriod : null,
        };
        return parse.InvokeAsync(configuration);
    }
}

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
}

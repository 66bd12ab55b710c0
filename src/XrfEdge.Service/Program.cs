using XrfEdge.Service.Cli;

return await XrfEdgeCommandLine.Build().Parse(args).InvokeAsync().ConfigureAwait(false);

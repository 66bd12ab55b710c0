using XrfEdge.Service.Cli;

return await XrfEdgeCommandLine.InvokeAsync(args).ConfigureAwait(false);

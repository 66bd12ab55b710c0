using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "path")
{
    return XrfEdge.Bench.PathProbe.Run(args);
}

if (args.Length > 0 && args[0] == "reanalysis")
{
    return XrfEdge.Bench.ReanalysisProbe.Run(args);
}

if (args.Length > 0 && args[0] == "ab")
{
    return XrfEdge.Bench.AbProbe.Run(args);
}

BenchmarkSwitcher.FromAssembly(typeof(XrfEdge.Bench.RebinBenchmarks).Assembly).Run(args);
return 0;

using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(XrfEdge.Bench.RebinBenchmarks).Assembly).Run(args);

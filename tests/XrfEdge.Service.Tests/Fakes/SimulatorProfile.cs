using System.Text.Json.Nodes;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>firmware-config/simulator.json, the shipped profile for the simulated DP5, as the tests against it use it.</summary>
internal static class SimulatorProfile
{
    /// <summary>
    /// Reply time-out, ms, for a simulated DP5 served by the test host: 10 × the shipped 500 ms. The simulator answers from
    /// this process's thread pool, which the tests and assemblies running beside it on a 2-core CI machine can starve
    /// for seconds; with 0.5 s × 3 attempts a request then failed (CI stop 40, AcquireDp5CancellationTests). Only for
    /// tests that are not about reply time-outs.
    /// </summary>
    public const int TolerantReplyTimeoutMilliseconds = 5000;

    /// <summary>The shipped profile's path.</summary>
    public static string Shipped => RepositoryRoot.Combine("firmware-config", "simulator.json");

    /// <summary>
    /// Writes the shipped profile with Acquisition:ReplyTimeoutMilliseconds = <see cref="TolerantReplyTimeoutMilliseconds"/>
    /// (everything else as shipped) to <paramref name="folder"/>/simulator.json and returns that path.
    /// </summary>
    public static string WithTolerantReplies(string folder)
    {
        var profile = JsonNode.Parse(File.ReadAllText(Shipped))!;
        profile["Acquisition"]!["ReplyTimeoutMilliseconds"] = TolerantReplyTimeoutMilliseconds;
        var path = Path.Combine(folder, "simulator.json");
        File.WriteAllText(path, profile.ToJsonString());
        return path;
    }
}

namespace XrfEdge.Service.Tests.Options;

/// <summary>
/// The smallest valid profile (a replay source, the test model, a device id, an outbox) written into a folder: the base
/// that the single-key option tests load with one override, and the environment they load it with.
/// </summary>
internal static class MinimalProfile
{
    /// <summary>What systemd's StateDirectory= gives the service, which a relative Outbox:Path is resolved against.</summary>
    public static readonly Dictionary<string, string?> Environment = new() { ["STATE_DIRECTORY"] = "/var/lib/xrfedge" };

    /// <summary>Writes <c>profile.json</c> and its replay file into <paramref name="folder"/>; returns the profile's path.</summary>
    public static string Write(string folder)
    {
        var replay = Path.Combine(folder, "replay.jsonl");
        File.WriteAllText(replay, "{}");
        var profile = Path.Combine(folder, "profile.json");
        File.WriteAllText(profile, $$"""
            {
              "Acquisition": { "Source": "Replay", "ReplayPath": "{{replay}}" },
              "Model": { "Path": "{{RepositoryRoot.TestModel}}" },
              "Mqtt": { "DeviceId": "XRF-T-1" },
              "Outbox": { "Path": "outbox.db" }
            }
            """);
        return profile;
    }
}

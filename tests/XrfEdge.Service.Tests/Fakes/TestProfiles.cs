using System.Globalization;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>Writes throw-away profiles and replay files into a temporary folder.</summary>
internal sealed class TestProfiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("xrfedge-svc-").FullName;

    /// <summary>A replay file of <paramref name="count"/> flat spectra (FakeSpectrumSource.Spectrum).</summary>
    public string ReplayFile(int count = 3)
    {
        string path = Path.Combine(Folder, "replay.jsonl");
        SpectrumJsonl.WriteFile(path, Enumerable.Range(0, count).Select(i => new LabelledSpectrum(FakeSpectrumSource.Spectrum("replay-" + i.ToString(CultureInfo.InvariantCulture)))));
        return path;
    }

    /// <summary>A replay profile on the test encoder, broker on <paramref name="mqttPort"/>, outbox in the temp folder.</summary>
    public string ReplayProfile(int mqttPort, string mode = "Continuous", double presetSeconds = 0.5, bool paced = true)
    {
        string replay = ReplayFile();
        string path = Path.Combine(Folder, "replay-profile.json");
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $$"""
            {
              "Acquisition": { "Source": "Replay", "ReplayPath": "{{replay}}", "Mode": "{{mode}}", "AutoStart": true, "PresetSeconds": {{presetSeconds}}, "ReplayPaced": {{(paced ? "true" : "false")}} },
              "Calibration": { "OffsetKeV": 0, "GainKeVPerChannel": 0.015 },
              "Model": { "Path": "{{RepositoryRoot.TestModel}}", "MaxBatchSize": 64 },
              "Mqtt": { "Host": "127.0.0.1", "Port": {{mqttPort}}, "Fleet": "test", "DeviceId": "XRF-T-1", "KeepAliveSeconds": 5, "RemoteControl": true },
              "Outbox": { "Path": "outbox.db" },
              "Health": { "IntervalSeconds": 2, "StallSeconds": 10, "StopTimeoutSeconds": 15 },
              "Logging": { "LogLevel": { "Default": "Information", "Microsoft": "Warning" } }
            }
            """));
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A TCP port nobody listens on right now (bind to port 0, read it back, release).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

using System.Diagnostics;
using System.Globalization;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>A real mosquitto on 127.0.0.1 (free port, persistence in a temp folder), restartable on the same port.</summary>
internal sealed class MosquittoBroker : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-e2e-broker-").FullName;
    private Process? _process;

    /// <param name="listenerConfig">More lines for the listener (TLS: cafile, certfile, keyfile, require_certificate).</param>
    public MosquittoBroker(string listenerConfig = "")
    {
        Port = TestProfiles.FreePort();
        File.WriteAllText(Path.Combine(_folder, "mosquitto.conf"), string.Create(CultureInfo.InvariantCulture, $"""
            user {Environment.UserName}
            listener {Port} 127.0.0.1
            {listenerConfig}
            allow_anonymous true
            persistence true
            persistence_location {_folder}/
            autosave_interval 1
            log_dest file {_folder}/mosquitto.log
            """));
        Start();
    }

    public int Port { get; }

    public static bool IsInstalled => File.Exists("/usr/sbin/mosquitto") && File.Exists("/usr/bin/mosquitto_sub") && File.Exists("/usr/bin/mosquitto_pub");

    public void Start()
    {
        _process = Process.Start(new ProcessStartInfo("/usr/sbin/mosquitto") { ArgumentList = { "-c", Path.Combine(_folder, "mosquitto.conf") }, UseShellExecute = false })!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                client.Connect(System.Net.IPAddress.Loopback, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50); // polling a port that is coming up, not timing a result
            }
        }

        throw new InvalidOperationException($"mosquitto did not listen on {Port}");
    }

    /// <summary>kill -9: the broker dies without saving more than its last autosave.</summary>
    public void Crash()
    {
        _process?.Kill();
        _process?.WaitForExit();
    }

    /// <summary>Publishes with mosquitto_pub (MQTT 5); <paramref name="responseTopic"/> sets the v5 Response Topic.</summary>
    public void Publish(string topic, string payload, string? responseTopic = null)
    {
        var start = new ProcessStartInfo("/usr/bin/mosquitto_pub")
        {
            ArgumentList = { "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-V", "5", "-q", "1", "-t", topic, "-m", payload },
            UseShellExecute = false,
        };
        if (responseTopic is not null)
        {
            foreach (var arg in new[] { "-D", "publish", "response-topic", responseTopic })
            {
                start.ArgumentList.Add(arg);
            }
        }

        using var pub = Process.Start(start)!;
        pub.WaitForExit();
    }

    public void Dispose()
    {
        Crash();
        _process?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

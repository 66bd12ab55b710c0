using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace XrfEdge.Bench;

/// <summary>A mosquitto broker on 127.0.0.1 (free port, temp config) for the MQTT benchmarks.</summary>
internal sealed class MqttBenchmarkBroker : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    public MqttBenchmarkBroker()
    {
        _directory = Path.Combine(Path.GetTempPath(), "xrfedge-bench-broker-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var config = Path.Combine(_directory, "mosquitto.conf");
        File.WriteAllText(config, $"listener {Port} 127.0.0.1\nallow_anonymous true\nuser {Environment.UserName}\nmax_queued_messages 0\nlog_dest none\n");
        var executable = File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
        _process = Process.Start(new ProcessStartInfo(executable, ["-c", config]) { UseShellExecute = false, RedirectStandardError = true })
            ?? throw new InvalidOperationException("mosquitto did not start (install it with scripts/install-deps.sh)");
        for (var attempt = 0; attempt < 500; attempt++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(10);
            }
        }

        throw new TimeoutException("mosquitto did not start listening");
    }

    public int Port { get; }

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A real mosquitto broker on 127.0.0.1 on a free port, in its own temp directory, started and stopped by the test
/// (reference §5 "Broker per test"). Kill() is SIGKILL, Terminate() SIGTERM; Start() again reuses the port and
/// persistence file. With XRFEDGE_TEST_BROKER_LOG=all in the environment the broker logs every packet (log_type all), for
/// diagnosing a failed run; it slows the broker down. XRFEDGE_TEST_BROKER_MAX_INFLIGHT=N overrides the unlimited in-flight
/// window (diagnosis of the loss test, docs/mqtt.md).
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _config;
    private Process? _process;
    private readonly StringBuilder _log = new();

    private MosquittoBroker(string directory, int port, string config)
    {
        Directory = directory;
        Port = port;
        _config = config;
    }

    public string Directory { get; }

    public int Port { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static string Executable => File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

    /// <summary>
    /// Creates (not starts) a broker; <paramref name="extraConfig"/> is appended to the listener block;
    /// <paramref name="maxInflight"/> sets mosquitto's <c>max_inflight_messages</c> (announced to MQTT 5 clients as
    /// CONNACK Receive Maximum), else XRFEDGE_TEST_BROKER_MAX_INFLIGHT or 0 (unlimited).
    /// </summary>
    public static MosquittoBroker Create(string extraConfig = "", bool persistence = false, string? listenerConfig = null, int? maxInflight = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "xrfedge-mqtt-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var port = FreePort();
        var config = new StringBuilder();
        config.AppendLine($"listener {port} 127.0.0.1");
        config.AppendLine(listenerConfig ?? "allow_anonymous true");
        config.AppendLine(extraConfig);
        if (persistence)
        {
            // Save on every change: the loss test must not lose messages inside the broker when it is SIGKILLed.
            config.AppendLine("persistence true");
            config.AppendLine($"persistence_location {directory}/");
            config.AppendLine("autosave_interval 1");
            config.AppendLine("autosave_on_changes true");
        }

        // Started as root, mosquitto drops to user "mosquitto", which cannot read our 0600 test keys or write the temp
        // persistence directory; naming the current user keeps it as is (ignored when not root).
        config.AppendLine($"user {Environment.UserName}");
        config.AppendLine("max_queued_messages 0");
        // Diagnosis only (docs/mqtt.md, "Loss test"): XRFEDGE_TEST_BROKER_MAX_INFLIGHT=N sets mosquitto's in-flight window
        // (0, the tests' default, is unlimited). mosquitto's autosave_on_changes counts queued messages but not those it
        // sends straight into a connected client's in-flight window, so the window decides what a save can miss.
        var window = maxInflight?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Environment.GetEnvironmentVariable("XRFEDGE_TEST_BROKER_MAX_INFLIGHT") ?? "0";
        if (!int.TryParse(window, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var inflight))
        {
            throw new InvalidOperationException($"XRFEDGE_TEST_BROKER_MAX_INFLIGHT must be a whole number ≥ 0, got '{window}'");
        }

        config.AppendLine($"max_inflight_messages {inflight}");
        config.AppendLine("log_dest stderr");
        config.AppendLine("log_type error");
        config.AppendLine("log_type warning");
        if (Environment.GetEnvironmentVariable("XRFEDGE_TEST_BROKER_LOG") == "all")
        {
            config.AppendLine("log_type all");
        }

        var path = Path.Combine(directory, "mosquitto.conf");
        File.WriteAllText(path, config.ToString());
        return new MosquittoBroker(directory, port, path);
    }

    public static MosquittoBroker Started(string extraConfig = "", bool persistence = false, string? listenerConfig = null, int? maxInflight = null)
    {
        var broker = Create(extraConfig, persistence, listenerConfig, maxInflight);
        broker.Start();
        return broker;
    }

    public void Start()
    {
        var info = new ProcessStartInfo(Executable, ["-c", _config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        _process = Process.Start(info) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_log) { _log.AppendLine(e.Data); } } };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_log) { _log.AppendLine(e.Data); } } };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {Log}");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Yield();
            }
        }

        throw new TimeoutException($"mosquitto did not listen on {Port}: {Log}");
    }

    /// <summary>SIGKILL, then wait for the process to be gone.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// SIGTERM, then wait for the process to be gone. mosquitto stops at whatever point of its loop it is (packets it has
    /// not read yet are dropped unanswered), writes its persistence file and exits: unlike SIGKILL, every message it has
    /// acknowledged survives (docs/mqtt.md, "Loss test"). The signal is repeated every second: mosquitto 2.0 sets its
    /// "run" flag only when it enters its main loop, after its listener already accepts connections, so a SIGTERM sent
    /// just after <see cref="Start"/> returned can be forgotten (seen once: the broker ran on after it).
    /// </summary>
    public void Terminate()
    {
        if (_process is { HasExited: false })
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            do
            {
                Signal("TERM");
            }
            while (!_process.WaitForExit(TimeSpan.FromSeconds(1)) && DateTime.UtcNow < deadline);

            if (!_process.HasExited)
            {
                throw new TimeoutException($"mosquitto did not exit within 10 s of SIGTERM (sent every second): {Log}");
            }
        }

        _process?.Dispose();
        _process = null;
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill!.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

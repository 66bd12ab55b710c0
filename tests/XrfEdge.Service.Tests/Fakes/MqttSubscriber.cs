using System.Diagnostics;
using System.Globalization;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>
/// A persistent-session subscriber (mosquitto_sub -c -q 1): what a fleet back end sees. It reconnects by itself
/// after a broker restart, and the broker keeps its QoS 1 messages meanwhile.
/// </summary>
internal sealed class MqttSubscriber : IDisposable
{
    private static readonly TimeSpan RecheckPeriod = TimeSpan.FromMilliseconds(200);
    private readonly Process _process;
    private readonly List<(string Topic, string Payload)> _messages = [];

    public MqttSubscriber(int port, string clientId, params string[] filters)
    {
        var start = new ProcessStartInfo("/usr/bin/mosquitto_sub") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-V", "5", "-q", "1", "-c", "-i", clientId, "-x", "600", "-v" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var filter in filters)
        {
            start.ArgumentList.Add("-t");
            start.ArgumentList.Add(filter);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            int space = e.Data.IndexOf(' ', StringComparison.Ordinal);
            lock (_messages)
            {
                _messages.Add(space < 0 ? (e.Data, "") : (e.Data[..space], e.Data[(space + 1)..]));
                Monitor.PulseAll(_messages);
            }
        };
        _process.BeginOutputReadLine();
    }

    public IReadOnlyList<(string Topic, string Payload)> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds over the messages so far: checked on every message and at least
    /// every 200 ms, so that a condition on something else too (a child process that exited) ends the wait when it holds.
    /// </summary>
    public bool WaitUntil(Func<IReadOnlyList<(string Topic, string Payload)>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_messages)
        {
            while (!condition(_messages))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                Monitor.Wait(_messages, left < RecheckPeriod ? left : RecheckPeriod);
            }

            return true;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>The real <c>xrfedge run</c> as a child process (the build output next to the tests), with its console captured.</summary>
internal sealed partial class ServiceProcess : IDisposable
{
    private const int SignalTerm = 15; // SIGTERM
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public ServiceProcess(string profile, IEnumerable<string> sets, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "xrfedge.dll"));
        start.ArgumentList.Add("run");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(profile);
        foreach (var set in sets)
        {
            start.ArgumentList.Add("--set");
            start.ArgumentList.Add(set);
        }

        start.Environment.Remove("NOTIFY_SOCKET");
        start.Environment.Remove("WATCHDOG_USEC");
        start.Environment.Remove("INVOCATION_ID");
        start.Environment.Remove("JOURNAL_STREAM");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>For a failure message: "running", or how the process exited.</summary>
    public string State => _process.HasExited ? $"exited {_process.ExitCode}" : "running";

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Sends SIGTERM, as systemd does on <c>systemctl stop</c>.</summary>
    public void Terminate()
    {
        if (Kill(_process.Id, SignalTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>SIGKILL: no chance to clean up (power-cut-like for the process).</summary>
    public void KillHard() => _process.Kill();

    public bool WaitForExit(TimeSpan timeout, out int exitCode)
    {
        bool exited = _process.WaitForExit(timeout);
        if (exited)
        {
            _process.WaitForExit(); // flush the redirected output
        }

        exitCode = exited ? _process.ExitCode : -1;
        return exited;
    }

    /// <summary>Waits until the console output contains <paramref name="text"/>.</summary>
    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_output)
            {
                if (_output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return true;
                }

                Monitor.Wait(_output, TimeSpan.FromMilliseconds(200));
            }

            if (_process.HasExited)
            {
                return Output.Contains(text, StringComparison.Ordinal);
            }
        }

        return false;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            Monitor.PulseAll(_output);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

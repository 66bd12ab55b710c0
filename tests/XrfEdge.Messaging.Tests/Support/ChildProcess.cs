using System.Diagnostics;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>Runs this test assembly as a child process in one of the modes of <see cref="Program"/>.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _line = new(0);

    public ChildProcess(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("child did not start");
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data is null ? null : "ERR " + e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public bool Printed(string line)
    {
        lock (_lines)
        {
            return _lines.Contains(line);
        }
    }

    public async Task WaitForLineAsync(string line, double timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!Printed(line))
        {
            var left = deadline - DateTime.UtcNow;
            if (_process.HasExited)
            {
                // HasExited can turn true before the async readers have delivered the last lines; the
                // parameterless WaitForExit returns only once both redirected streams reached EOF.
                _process.WaitForExit();
                if (Printed(line))
                {
                    return;
                }

                throw new TimeoutException($"child exited with code {_process.ExitCode} without printing {line}; output:\n{Output}");
            }

            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"child did not print {line} within {timeoutSeconds} s; output:\n{Output}");
            }

            await _line.WaitAsync(left);
        }
    }

    /// <summary>Waits for the child to end and returns its exit code (128 + signal when a signal ended it).</summary>
    public async Task<int> WaitForExitAsync(double timeoutSeconds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"child did not exit within {timeoutSeconds} s; output:\n{Output}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (Process.Kill on Linux), no chance to clean up.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
        _line.Dispose();
    }

    private void Add(string? data)
    {
        if (data is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(data);
        }

        _line.Release();
    }
}

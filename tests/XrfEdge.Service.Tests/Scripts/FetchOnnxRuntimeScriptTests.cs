using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace XrfEdge.Service.Tests.Scripts;

/// <summary>
/// scripts/fetch-onnxruntime.sh as the first <c>dotnet build</c> of a fresh clone runs it (MSBuild target
/// FetchOnnxRuntime), before scripts/install-deps.sh has installed anything: only the tools of a minimal Debian
/// (coreutils, util-linux's flock, tar) and npm, here a stand-in that "packs" a file of known bytes.
/// </summary>
public sealed class FetchOnnxRuntimeScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xrfedge-fetch-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("cache")]
    // GNU sha512sum escapes a file name holding a backslash or a newline and then starts its line with '\', so the
    // first 128 characters were '\' and 127 digits: a checkout under such a folder failed every first build with an
    // integrity mismatch (until 2026-11-24).
    [InlineData("ca\\che")]
    public async Task Fetch_WithoutOpenSsl_StillChecksTheTarballsIntegrity(string cacheFolder)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Fail("the script and this test are Linux-only");
            return;
        }

        // The integrity check ran `openssl dgst`; without openssl (not in a minimal image, and install-deps.sh had not
        // run yet) the script died on "openssl: command not found" after the 110 MB download, naming no fix.
        const string Tarball = "not the onnxruntime-node tarball";
        string bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(bin);
        foreach (string tool in new[] { "dirname", "mkdir", "flock", "mktemp", "rm", "sed", "base64", "sha512sum", "cut", "tar", "install", "cat" })
        {
            string real = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, tool), real);
        }

        File.WriteAllText(Path.Combine(bin, "npm"), $"#!/bin/bash\nprintf '%s' '{Tarball}' > onnxruntime-node-1.30.0.tgz\n");
        File.SetUnixFileMode(Path.Combine(bin, "npm"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Assert.False(File.Exists(Path.Combine(bin, "openssl")));

        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(RepositoryRoot.Combine("scripts", "fetch-onnxruntime.sh"));
        start.ArgumentList.Add(Path.Combine(_root, cacheFolder));
        start.Environment["PATH"] = bin;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        // npm's integrity form, "sha512-" + base64 of the SHA-512 digest, of the stand-in's bytes.
        string expected = "sha512-" + Convert.ToBase64String(SHA512.HashData(Encoding.ASCII.GetBytes(Tarball)));
        Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}\n{stderr}{await stdout}");
        Assert.Contains("integrity mismatch", stderr, StringComparison.Ordinal);
        Assert.Contains("actual   " + expected, stderr, StringComparison.Ordinal);
    }
}

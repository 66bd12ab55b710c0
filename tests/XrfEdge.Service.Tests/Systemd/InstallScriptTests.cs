using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// scripts/install.sh staged into a temporary <c>DESTDIR</c> (its packaging mode: no user, udev or systemctl) from a
/// stand-in build (<c>XRFEDGE_PREBUILT</c>), installed twice as an upgrade does. The folder names hold spaces on purpose.
/// The staging root stands in for an image root holding what the preflight looks for (InstallScriptTests.Preflight.cs).
/// </summary>
public sealed partial class InstallScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xrfedge install ").FullName;

    public InstallScriptTests()
    {
        Directory.CreateDirectory(Build);

        // The apphost that ExecStart= runs: any ELF executable will do, and /bin/sleep can stand in for the service.
        File.Copy("/bin/sleep", Path.Combine(Build, "xrfedge"));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 1");
        WriteFrameworkDependentConfig(Build);
        AddOnnxRuntime(Build);
        ProvideRuntimeNeeds(Stage);
    }

    private string Build => Path.Combine(_root, "publish output");

    private string Stage => Path.Combine(_root, "stage root");

    private string Prefix => Path.Combine(Stage, "opt", "xrfedge");

    private string UdevRules => Path.Combine(Stage, "etc", "udev", "rules.d", "60-xrfedge.rules");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Install_AgainWhileTheServiceRuns_ReplacesTheFilesAndLeavesTheRunningOnesIntact()
    {
        Assert.Equal((0, "release 1"), (Install().ExitCode, File.ReadAllText(Path.Combine(Prefix, "xrfedge.dll"))));

        // The running service: its executable is executing and its assemblies are open (mapped, for the runtime).
        using var service = Process.Start(Path.Combine(Prefix, "xrfedge"), "60");
        using var loaded = new FileStream(Path.Combine(Prefix, "xrfedge.dll"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");
        try
        {
            var (exitCode, output) = Install();

            // cp -a rewrote files in place: it failed on the running executable ("Text file busy", ETXTBSY) half-way
            // through, after it had already overwritten assemblies that the running process had mapped.
            Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
            Assert.Equal("release 2", File.ReadAllText(Path.Combine(Prefix, "xrfedge.dll")));
            Assert.Equal("release 1", new StreamReader(loaded).ReadToEnd());
            Assert.False(service.HasExited);
        }
        finally
        {
            service.Kill();
        }
    }

    [Fact]
    public void Install_AgainAfterTheUdevRuleWasEdited_KeepsTheEditAndStagesTheNewRuleBesideIt()
    {
        Assert.Equal(0, Install().ExitCode);

        // What the rule file and docs/deploy.md ask for: adapt it to the site's USB-RS232 adapter.
        string edited = File.ReadAllText(UdevRules).Replace("ATTRS{idProduct}==\"6001\"", "ATTRS{idProduct}==\"6015\"", StringComparison.Ordinal);
        File.WriteAllText(UdevRules, edited);

        var (exitCode, output) = Install();

        Assert.Equal(0, exitCode);
        Assert.Equal(edited, File.ReadAllText(UdevRules));
        Assert.Equal(File.ReadAllText(RepositoryRoot.Combine("systemd", "60-xrfedge.rules")), File.ReadAllText(UdevRules + ".dist"));
        Assert.Contains("60-xrfedge.rules.dist", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_AgainWithTheShippedRuleUnchanged_UpdatesItWithoutACopy()
    {
        Assert.Equal(0, Install().ExitCode);
        File.WriteAllText(Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env"), "XRFEDGE_PROFILE=jetson-spi\n");

        Assert.Equal(0, Install().ExitCode);

        Assert.Equal(File.ReadAllText(RepositoryRoot.Combine("systemd", "60-xrfedge.rules")), File.ReadAllText(UdevRules));
        Assert.False(File.Exists(UdevRules + ".dist"));
        Assert.Equal("XRFEDGE_PROFILE=jetson-spi\n", File.ReadAllText(Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env")));
    }

    [Fact]
    public void Install_AgainAfterAProfileWasEditedInPlace_KeepsTheEditBesideTheNewProfile()
    {
        // docs/deploy.md §3 says to copy a profile before changing it, but the file under /opt/xrfedge/firmware-config/
        // is the one ExecStart names, and an upgrade overwrote an edit there without a word.
        Assert.Equal(0, Install().ExitCode);
        string profile = Path.Combine(Prefix, "firmware-config", "pi-dp5-uart.json");
        string edited = File.ReadAllText(profile).Replace("\"Acquisition\"", "\"Acquisition\" ", StringComparison.Ordinal);
        Assert.NotEqual(File.ReadAllText(profile), edited);
        File.WriteAllText(profile, edited);

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(File.ReadAllText(RepositoryRoot.Combine("firmware-config", "pi-dp5-uart.json")), File.ReadAllText(profile));
        string kept = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(profile)!, "pi-dp5-uart.json.edited-*"));
        Assert.Equal(edited, File.ReadAllText(kept));
        Assert.Contains(Path.GetFileName(kept), output, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_AgainWithUneditedProfiles_KeepsNoCopies()
    {
        Assert.Equal(0, Install().ExitCode);

        Assert.Equal(0, Install().ExitCode);

        Assert.Empty(Directory.GetFiles(Path.Combine(Prefix, "firmware-config"), "*.edited-*"));
    }

    [SystemdToolFact("systemd-sysusers", "systemctl")]
    public void Install_IntoAnImageRoot_TheDocumentedImageStepsGiveTheUnitItsUserGroupsAndBoot()
    {
        // DESTDIR creates no user, groups or enablement: the image's first boot found no `xrfedge` for User= and the
        // unit failed with 217/USER. docs/deploy.md §3 "Image builds" runs these two offline steps on the image root.
        Assert.Equal(0, Install().ExitCode);

        Assert.Equal(0, Run(SystemdToolFactAttribute.Find("systemd-sysusers")!, "--root=" + Stage, Path.Combine(Stage, "etc", "sysusers.d", "xrfedge.conf")));
        Assert.Equal(0, Run(SystemdToolFactAttribute.Find("systemctl")!, "--root=" + Stage, "enable", "xrfedge.service"));

        string unit = File.ReadAllText(Path.Combine(Stage, "etc", "systemd", "system", "xrfedge.service"));
        string user = Regex.Match(unit, "(?m)^User=(.+)$").Groups[1].Value;
        string[] passwd = File.ReadAllLines(Path.Combine(Stage, "etc", "passwd"));
        Assert.Contains(passwd, line => line.StartsWith(user + ":", StringComparison.Ordinal) && line.EndsWith(":/usr/sbin/nologin", StringComparison.Ordinal));
        string[] group = File.ReadAllLines(Path.Combine(Stage, "etc", "group"));
        foreach (string supplementary in Regex.Match(unit, "(?m)^SupplementaryGroups=(.+)$").Groups[1].Value.Split(' '))
        {
            Assert.Contains(group, line => line.StartsWith(supplementary + ":", StringComparison.Ordinal) && line.Split(':')[3].Split(',').Contains(user));
        }

        Assert.True(File.Exists(Path.Combine(Stage, "etc", "systemd", "system", "multi-user.target.wants", "xrfedge.service")));
    }

    [Fact]
    public void Install_ShipsTheTtyS0DropInBesideTheUnitWithoutActivatingIt()
    {
        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(File.ReadAllText(RepositoryRoot.Combine("systemd", "mca-on-ttyS0.conf")), File.ReadAllText(Path.Combine(Prefix, "systemd", "mca-on-ttyS0.conf")));
        Assert.False(Directory.Exists(Path.Combine(Stage, "etc", "systemd", "system", "xrfedge.service.d")));
    }

    [Fact]
    public void Install_PutsTheRetryTimerBesideTheUnit()
    {
        // xrfedge.service's OnFailure= names it: without it in /etc/systemd/system a unit that gave up stayed failed.
        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        string timer = File.ReadAllText(RepositoryRoot.Combine("systemd", "xrfedge-retry.timer"));
        Assert.Equal(timer, File.ReadAllText(Path.Combine(Stage, "etc", "systemd", "system", "xrfedge-retry.timer")));
        Assert.Equal(timer, File.ReadAllText(Path.Combine(Prefix, "systemd", "xrfedge-retry.timer")));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_AgainAfterTheSiteSettingsBecameWorldReadable_KeepsThemAndClosesThemToOtherUsers()
    {
        // xrfedge.env holds Mqtt:Password (and KeyPassword). An editor or `cp` from a 0644 template leaves it readable by
        // every local user; install.sh created it 0640 once and never looked again.
        Assert.Equal(0, Install().ExitCode);
        string env = Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env");
        File.WriteAllText(env, "XRFEDGE_Mqtt__Username=xrf\nXRFEDGE_Mqtt__Password=secret\n");
        File.SetUnixFileMode(env, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal("XRFEDGE_Mqtt__Username=xrf\nXRFEDGE_Mqtt__Password=secret\n", File.ReadAllText(env));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(env));
        Assert.Contains("xrfedge.env", output, StringComparison.Ordinal);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_AgainWithTheSiteSettingsASymlinkToAClosedFile_SaysNothingAndLeavesIt()
    {
        // A read-only root keeps xrfedge.env on a data partition behind a symlink. The permission check looked at the
        // link's own mode (always 777): every run said "was mode 777 … now 777", as if the password were still open.
        Assert.Equal(0, Install().ExitCode);
        string folder = Path.Combine(Stage, "etc", "xrfedge");
        string env = Path.Combine(folder, "xrfedge.env");
        File.Move(env, Path.Combine(folder, "site.env"));
        File.CreateSymbolicLink(env, "site.env");
        File.SetUnixFileMode(Path.Combine(folder, "site.env"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.DoesNotContain("was mode", output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "site.env")));
        Assert.NotNull(new FileInfo(env).LinkTarget);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_Fresh_WritesTheSiteSettingsReadableByRootOnly()
    {
        Assert.Equal(0, Install().ExitCode);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
            File.GetUnixFileMode(Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env")));
    }

    [Theory]
    [InlineData("nobody", "nobody")] // the usual case: the user's own clone
    [InlineData("root", "root")] // a clone made by root: the user could not write its obj/ folders
    public void Install_UnderSudo_BuildsAsTheOwnerOfTheCheckout(string checkoutOwner, string expectedBuilder)
    {
        // `sudo make install` from a developer's checkout: the build used to run as root, leaving root-owned obj/ and
        // bin/ folders (and a root-owned NuGet cache) behind, so the user's next `make build` or `make test` failed on
        // "Access to the path … is denied". Stand-ins: `nobody` for the user, a copy of the script in a checkout of
        // that owner, and a fake `dotnet` that records who ran it.
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/sbin/runuser"))
        {
            return; // needs root to play sudo; the CI container runs as root
        }

        var traversable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(_root, traversable);
        string checkout = CopyCheckout("checkout", "simulator.json");
        Assert.Equal(0, Run("chown", "-R", checkoutOwner, checkout));

        string tools = Path.Combine(_root, "fake tools");
        Directory.CreateDirectory(tools);
        string dotnet = Path.Combine(tools, "dotnet");
        File.WriteAllText(dotnet, """
            #!/bin/sh
            [ "$1" = "--list-sdks" ] && { echo "10.0.401 [/fake/sdk]"; exit 0; }
            out=""
            while [ $# -gt 0 ]; do [ "$1" = "-o" ] && out="$2"; shift; done
            mkdir -p "$out" && id -un > "$out/built-by" && printf 'release 1' > "$out/xrfedge.dll"
            cp "$XRFEDGE_TEST_RUNTIMECONFIG" "$out/" && cp -r "$XRFEDGE_TEST_RUNTIMES" "$out/"
            """ + "\n");
        File.SetUnixFileMode(dotnet, traversable);
        File.SetUnixFileMode(tools, traversable);

        var (exitCode, output) = Install(prebuilt: false, new Dictionary<string, string>
        {
            ["SUDO_USER"] = "nobody",
            ["XRFEDGE_TEST_RUNTIMECONFIG"] = Path.Combine(Build, "xrfedge.runtimeconfig.json"),
            ["XRFEDGE_TEST_RUNTIMES"] = Path.Combine(Build, "runtimes"),
            ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH"),
        }, Path.Combine(checkout, "scripts", "install.sh"));

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(expectedBuilder, File.ReadAllText(Path.Combine(Prefix, "built-by")).Trim());
    }

    [Fact]
    public void Install_WithoutTheModel_WarnsThatTheServiceRunsWithoutAnalysis()
    {
        // A checkout without models/ (the model is made by `make model`): a copy of the files install.sh reads.
        string checkout = CopyCheckout("checkout without model", "pi-dp5-uart.json");

        var (exitCode, output) = Install(script: Path.Combine(checkout, "scripts", "install.sh"));

        // Since 2026-11-23 a missing model is not a start-up failure (docs/service.md "Without a model"); the warning
        // still said "the service will refuse to start", sending the integrator to the wrong fix.
        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("models/xrf-line-encoder.int8.onnx is missing", output, StringComparison.Ordinal);
        Assert.Contains("without analysis", output, StringComparison.Ordinal);
        Assert.DoesNotContain("refuse to start", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A checkout holding only what install.sh reads besides the build (the script, systemd/ and
    /// <paramref name="profile"/>; no models/), in <paramref name="name"/> under the test's folder.
    /// </summary>
    private string CopyCheckout(string name, string profile)
    {
        string checkout = Path.Combine(_root, name);
        foreach (string folder in new[] { "scripts", "systemd", "firmware-config" })
        {
            Directory.CreateDirectory(Path.Combine(checkout, folder));
        }

        File.Copy(RepositoryRoot.Combine("scripts", "install.sh"), Path.Combine(checkout, "scripts", "install.sh"));
        foreach (string file in Directory.GetFiles(RepositoryRoot.Combine("systemd")))
        {
            File.Copy(file, Path.Combine(checkout, "systemd", Path.GetFileName(file)));
        }

        File.Copy(RepositoryRoot.Combine("firmware-config", profile), Path.Combine(checkout, "firmware-config", profile));
        return checkout;
    }

    private static int Run(string file, params string[] arguments)
    {
        using var process = Process.Start(file, arguments);
        process.WaitForExit();
        return process.ExitCode;
    }

    private (int ExitCode, string Output) Install(bool prebuilt = true, Dictionary<string, string>? environment = null, string? script = null,
        string? destdir = null, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script ?? RepositoryRoot.Combine("scripts", "install.sh"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DESTDIR"] = destdir ?? Stage;
        start.Environment.Remove("SUDO_USER");
        if (prebuilt)
        {
            start.Environment["XRFEDGE_PREBUILT"] = Build;
        }
        else
        {
            start.Environment.Remove("XRFEDGE_PREBUILT");
        }

        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }
}

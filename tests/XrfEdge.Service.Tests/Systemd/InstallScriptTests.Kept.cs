using System.Runtime.Versioning;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// The operator's files that an upgrade keeps in /opt/xrfedge.kept-&lt;UTC&gt; (since 2026-11-24): odd names, a second
/// install in the same second, the folder's mode, and a run cut off after the swap.
/// </summary>
public sealed partial class InstallScriptTests
{
    [Fact]
    public void Install_UpgradeWithOperatorFileNamesHoldingANewlineOrALeadingDash_KeepsExactlyThoseFiles()
    {
        // The record is "sha  path" lines and the kept list came from `comm` and `cut -c67-`: a name with a line break
        // became two names that exist nowhere and an empty one, and "$app/" (the whole release, models/ included) was
        // copied into the kept folder; `readlink -lnk` took the link's name for options.
        Assert.Equal(0, Install().ExitCode);
        File.WriteAllText(Path.Combine(Prefix, "site\nnotes.txt"), "two lines in a name");
        File.WriteAllText(Path.Combine(Prefix, "-dash.txt"), "a leading dash");
        File.CreateSymbolicLink(Path.Combine(Prefix, "-link"), "xrfedge.dll");
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        string kept = Assert.Single(Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*"));
        Assert.Equal(["-dash.txt", "-link", "site\nnotes.txt"], FilesUnder(kept));
        Assert.Equal("two lines in a name", File.ReadAllText(Path.Combine(kept, "site\nnotes.txt")));
        Assert.Equal("xrfedge.dll", new FileInfo(Path.Combine(kept, "-link")).LinkTarget);
        Assert.DoesNotContain(output.Split('\n'), line => line.Contains("removed", StringComparison.Ordinal));

        var (againExitCode, againOutput) = Install();
        Assert.True(againExitCode == 0, $"install.sh exit {againExitCode}:\n{againOutput}");
        Assert.Single(Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*"));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_TwoUpgradesInTheSameSecond_KeepEachVersionOfTheOperatorsFile()
    {
        // The kept folder is named by the second (date -u +%Y%m%dT%H%M%SZ). A second install in that second found it
        // there, `cp -l` refused the existing name, and `cp -a` wrote over the first install's kept copy: the only one.
        // A fake `date` gives both installs one stamp.
        string tools = Path.Combine(_root, "fake tools");
        Directory.CreateDirectory(tools);
        File.WriteAllText(Path.Combine(tools, "date"), "#!/bin/sh\necho 20261124T101010Z\n");
        File.SetUnixFileMode(Path.Combine(tools, "date"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var sameSecond = new Dictionary<string, string> { ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH") };
        Assert.Equal(0, Install(environment: sameSecond).ExitCode);
        File.WriteAllText(Path.Combine(Prefix, "site.json"), "version 1");
        Assert.Equal(0, Install(environment: sameSecond).ExitCode);
        File.WriteAllText(Path.Combine(Prefix, "site.json"), "version 2");

        var (exitCode, output) = Install(environment: sameSecond);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        string[] kept = Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*");
        Assert.Equal(["version 1", "version 2"], kept.Select(folder => File.ReadAllText(Path.Combine(folder, "site.json"))).Order(StringComparer.Ordinal));
        Assert.Contains(Path.GetFileName(kept.Single(folder => File.ReadAllText(Path.Combine(folder, "site.json")) == "version 2")), output, StringComparison.Ordinal);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_UpgradeKeepingAFileFromAPrivateFolder_KeepsItInAFolderOnlyItsOwnerCanOpen()
    {
        // An operator's key in a 0700 folder of /opt/xrfedge: `mkdir -p` made the kept folders 0755 under the usual umask,
        // and the file (0644: the folder was its protection) was readable by every local user.
        Assert.Equal(0, Install().ExitCode);
        string secrets = Path.Combine(Prefix, "secrets");
        Directory.CreateDirectory(secrets);
        File.SetUnixFileMode(secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(secrets, "broker.key"), "PRIVATE KEY");
        File.SetUnixFileMode(Path.Combine(secrets, "broker.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        string kept = Assert.Single(Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*"));
        Assert.Equal("PRIVATE KEY", File.ReadAllText(Path.Combine(kept, "secrets", "broker.key")));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(kept) & (UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_CutOffRightAfterTheSwap_NeverDeletesTheOnlyCopyOfAnOperatorsFile()
    {
        // A SIGTERM (systemd stopping a provisioning job, a Ctrl-C) that arrives while the second rename runs: the trap
        // ran with `keeping` still set and deleted the kept folder, while the file's other name was in .xrfedge.old, which
        // the next install deletes as "what an interrupted run left". A fake `mv` sends the signal when that rename is done.
        Assert.Equal(0, Install().ExitCode);
        File.WriteAllText(Path.Combine(Prefix, "site.json"), "the operator's only copy");
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");
        string tools = Path.Combine(_root, "fake tools");
        Directory.CreateDirectory(tools);
        string realMove = SystemdToolFactAttribute.Find("mv")!;
        File.WriteAllText(Path.Combine(tools, "mv"), $"#!/bin/sh\n{realMove} \"$@\" || exit\ncase \"$2\" in */.xrfedge.new) kill -TERM $PPID ;; esac\n");
        File.SetUnixFileMode(Path.Combine(tools, "mv"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exitCode, output) = Install(environment: new() { ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH") });
        Assert.True(exitCode != 0, $"install.sh was not cut off:\n{output}");
        var (nextExitCode, nextOutput) = Install();

        Assert.True(nextExitCode == 0, $"install.sh exit {nextExitCode}:\n{nextOutput}");
        string[] copies = [.. Directory.EnumerateFiles(Path.Combine(Stage, "opt"), "site.json", SearchOption.AllDirectories)];
        Assert.Contains(copies, copy => File.ReadAllText(copy) == "the operator's only copy");
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_KeptFilesThatMustBeCopiedOntoAFullPartition_ChangesNothingAndSaysHowMuchIsNeeded()
    {
        // Where the partition has no hard links (FAT, exFAT behind an /opt/xrfedge link) the kept files are copied, which
        // the free-space check before staging did not count: the copies could take the last 64 MiB the running service
        // writes its outbox into. Stand-ins: an `ln` that fails as on such a partition, and a `df` that reports plenty
        // for the staging check and then exactly the 64 MiB margin (65536 KiB), as if staging had used the rest.
        Assert.Equal(0, Install().ExitCode);
        File.WriteAllText(Path.Combine(Prefix, "site.json"), "the operator's file");
        var release1 = FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file)));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");
        string tools = Path.Combine(_root, "fake tools");
        Directory.CreateDirectory(tools);
        File.WriteAllText(Path.Combine(tools, "ln"), "#!/bin/sh\necho \"ln: failed to create hard link: Operation not permitted\" >&2\nexit 1\n");
        File.WriteAllText(Path.Combine(tools, "df"), $$"""
            #!/bin/sh
            calls="{{Path.Combine(_root, "df calls")}}"
            echo call >> "$calls"
            free=65536
            [ "$(wc -l < "$calls")" -eq 1 ] && free=100000000
            echo "Filesystem 1024-blocks Used Available Capacity Mounted on"
            echo "/dev/mmcblk0p2 200000000 0 $free 0% /"
            """ + "\n");
        foreach (string tool in new[] { "ln", "df" })
        {
            File.SetUnixFileMode(Path.Combine(tools, tool), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var (exitCode, output) = Install(environment: new() { ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH") });

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("nothing was changed", output, StringComparison.Ordinal);
        Assert.Contains("site.json", output, StringComparison.Ordinal);
        Assert.Equal(release1, FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file))));
        Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.Combine(Stage, "opt")).Select(Path.GetFileName));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_TwoUpgradesInTheSameSecondOverAnEditedProfile_KeepEachEdit()
    {
        // An edited profile is kept as NAME.edited-<UTC>, carried with firmware-config/. A second install within that
        // second wrote its kept copy (the second edit) over the first one's (the first edit), which was then lost.
        string tools = Path.Combine(_root, "fake tools");
        Directory.CreateDirectory(tools);
        File.WriteAllText(Path.Combine(tools, "date"), "#!/bin/sh\necho 20261124T101010Z\n");
        File.SetUnixFileMode(Path.Combine(tools, "date"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var sameSecond = new Dictionary<string, string> { ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH") };
        string profile = Path.Combine(Prefix, "firmware-config", "pi-dp5-uart.json");
        Assert.Equal(0, Install(environment: sameSecond).ExitCode);
        File.WriteAllText(profile, "edit 1");
        Assert.Equal(0, Install(environment: sameSecond).ExitCode);
        File.WriteAllText(profile, "edit 2");

        var (exitCode, output) = Install(environment: sameSecond);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        string[] kept = Directory.GetFiles(Path.GetDirectoryName(profile)!, "pi-dp5-uart.json.edited-*");
        Assert.Equal(["edit 1", "edit 2"], kept.Select(File.ReadAllText).Order(StringComparer.Ordinal));
        Assert.Contains(Path.GetFileName(kept.Single(file => File.ReadAllText(file) == "edit 2")), output, StringComparison.Ordinal);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public async Task Install_UpgradeOverAFifoTheOperatorMadeInTheAppFolder_KeepsItWithoutReadingIt()
    {
        // `sha256sum < FILE` on every file of the old release folder: a named pipe there (a log tap an operator made)
        // blocked the install for good, before any change, with no message. The deadline only stops a hung run: it is
        // then unblocked by opening the pipe for writing, and the test fails.
        Assert.Equal(0, Install().ExitCode);
        string fifo = Path.Combine(Prefix, "log-tap");
        Assert.Equal(0, Run("mkfifo", fifo));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");

        var install = Task.Run(() => Install());
        bool hung = await Task.WhenAny(install, Task.Delay(TimeSpan.FromSeconds(60))) != install;
        if (hung)
        {
            await using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
        }

        var (exitCode, output) = await install;
        Assert.False(hung, "install.sh blocked reading the named pipe in /opt/xrfedge");
        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        string kept = Assert.Single(Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*"));
        Assert.Contains("log-tap", output, StringComparison.Ordinal);
        Assert.Equal(["log-tap"], Directory.GetFileSystemEntries(kept).Select(Path.GetFileName));
    }
}

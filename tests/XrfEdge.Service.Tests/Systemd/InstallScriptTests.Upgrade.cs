using System.Diagnostics;
using System.Runtime.Versioning;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// An upgrade (since 2026-11-24): install.sh stages the whole new /opt/xrfedge beside the old one and swaps the two
/// folders by rename, so that the app folder holds exactly the new release's files (until then assemblies that a release
/// no longer ships stayed beside it), the operator's data is kept, and a failed install leaves the previous release whole.
/// </summary>
public sealed partial class InstallScriptTests
{
    /// <summary>What install.sh adds to the publish output in /opt/xrfedge (the rest is the build, file for file).</summary>
    private static readonly string[] InstalledBesideTheBuild = ["firmware-config", "models", "docs", "systemd", ".installed.sha256"];

    [Fact]
    public void Install_UpgradeToAReleaseWithoutAnAssembly_RemovesItAndKeepsTheOperatorsData()
    {
        // Release 1 ships an assembly and a native folder that release 2 no longer has (renamed or dropped between versions).
        File.WriteAllText(Path.Combine(Build, "XrfEdge.Retired.dll"), "release 1 only");
        Directory.CreateDirectory(Path.Combine(Build, "runtimes", "linux-arm", "native"));
        File.WriteAllText(Path.Combine(Build, "runtimes", "linux-arm", "native", "libretired.so"), "release 1 only");
        Assert.Equal(0, Install().ExitCode);

        // The operator's data, where docs/deploy.md puts each: site settings and profiles in /etc/xrfedge, the outbox in
        // /var/lib/xrfedge, and a model placed beside the shipped one in /opt/xrfedge/models (Model:Path names it).
        var operatorFiles = new Dictionary<string, string>
        {
            [Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env")] = "XRFEDGE_PROFILE=site\n",
            [Path.Combine(Stage, "etc", "xrfedge", "site.json")] = "{ \"Acquisition\": {} }\n",
            [Path.Combine(Stage, "var", "lib", "xrfedge", "outbox.db")] = "SQLite format 3\0 stand-in",
            [Path.Combine(Prefix, "models", "site-encoder.int8.onnx")] = "the operator's model",
            [Path.Combine(Prefix, "models", "site-encoder.card.json")] = "{ \"name\": \"site-encoder\" }",
        };
        foreach (var (path, text) in operatorFiles)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }

        var placed = operatorFiles.Keys.ToDictionary(path => path, File.GetLastWriteTimeUtc);
        File.Delete(Path.Combine(Build, "XrfEdge.Retired.dll"));
        Directory.Delete(Path.Combine(Build, "runtimes", "linux-arm"), recursive: true);
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(FilesUnder(Build), FilesUnder(Prefix).Where(file => !InstalledBesideTheBuild.Contains(file.Split('/')[0])));
        Assert.Equal("release 2", File.ReadAllText(Path.Combine(Prefix, "xrfedge.dll")));
        Assert.Contains("XrfEdge.Retired.dll", output, StringComparison.Ordinal);
        foreach (var (path, text) in operatorFiles)
        {
            Assert.Equal((text, placed[path]), (File.ReadAllText(path), File.GetLastWriteTimeUtc(path)));
        }

        Assert.True(File.Exists(Path.Combine(Prefix, "models", "xrf-line-encoder.int8.onnx")));
        Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.Combine(Stage, "opt")).Select(Path.GetFileName));
    }

    [Fact]
    public void Install_UpgradeAfterTheOperatorPutFilesInTheAppFolder_KeepsThemBesideItAndSaysWhereSiteFilesBelong()
    {
        // The release folder is replaced whole. Files an operator put there anyway (a profile copy at the top, notes in a
        // folder of their own, an edited runtimeconfig) were deleted at the swap and only named afterwards, in the list
        // of "removed" files. Since 2026-11-24 what no install put there is told by the install's record and kept.
        File.WriteAllText(Path.Combine(Build, "XrfEdge.Retired.dll"), "release 1 only");
        Assert.Equal(0, Install().ExitCode);
        var operatorFiles = new Dictionary<string, string>
        {
            ["site.json"] = "{ \"Acquisition\": {} }\n",
            [Path.Combine("site notes", "calibration.txt")] = "SRM 1155 checked\n",
            ["xrfedge.runtimeconfig.json"] = "{ \"edited\": true }\n",
        };
        foreach (var (file, text) in operatorFiles)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Prefix, file))!);
            File.WriteAllText(Path.Combine(Prefix, file), text);
        }

        File.Delete(Path.Combine(Build, "XrfEdge.Retired.dll"));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(FilesUnder(Build), FilesUnder(Prefix).Where(file => !InstalledBesideTheBuild.Contains(file.Split('/')[0])));
        string kept = Assert.Single(Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*"));
        Assert.Equal(operatorFiles.Keys.Select(file => file.Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal), FilesUnder(kept));
        foreach (var (file, text) in operatorFiles)
        {
            Assert.Equal(text, File.ReadAllText(Path.Combine(kept, file)));
            Assert.Contains(file.Replace(Path.DirectorySeparatorChar, '/'), output, StringComparison.Ordinal);
        }

        Assert.Contains("/opt/" + Path.GetFileName(kept), output, StringComparison.Ordinal);
        Assert.Contains("/etc/xrfedge", output, StringComparison.Ordinal);
        string removed = Assert.Single(output.Split('\n'), line => line.Contains("removed", StringComparison.Ordinal));
        Assert.Contains("XrfEdge.Retired.dll", removed, StringComparison.Ordinal);
        Assert.DoesNotContain("site.json", removed, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_FirstUpgradeFromAnInstallWithoutTheReleaseRecord_KeepsEveryFileItDoesNotShipOnce()
    {
        // Installs before 2026-11-24 wrote no /opt/xrfedge/.installed.sha256: an operator's file cannot be told from one
        // an older release shipped, so every file this release does not ship is kept beside it, this once.
        File.WriteAllText(Path.Combine(Build, "XrfEdge.Retired.dll"), "release 1 only");
        Assert.Equal(0, Install().ExitCode);
        File.Delete(Path.Combine(Prefix, ".installed.sha256"));
        File.WriteAllText(Path.Combine(Prefix, "site.json"), "{ }\n");
        File.Delete(Path.Combine(Build, "XrfEdge.Retired.dll"));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");

        var (exitCode, output) = Install();
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 3");
        var (againExitCode, againOutput) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("kept no record", output, StringComparison.Ordinal);
        Assert.True(againExitCode == 0, $"install.sh exit {againExitCode}:\n{againOutput}");
        string kept = Assert.Single(Directory.GetDirectories(Path.Combine(Stage, "opt"), "xrfedge.kept-*"));
        Assert.Equal(["XrfEdge.Retired.dll", "site.json"], FilesUnder(kept));
        Assert.Equal("release 3", File.ReadAllText(Path.Combine(Prefix, "xrfedge.dll")));
    }

    [Fact]
    public void Install_UpgradeThatFailsPartWay_LeavesThePreviousReleaseWhole()
    {
        // The stand-in for any step that fails after the build was copied (a full card, an unreadable file): a profile
        // that is a folder, which `install` refuses. cp had already rewritten /opt/xrfedge by then: half old, half new.
        string checkout = CopyCheckout("checkout", "pi-dp5-uart.json");
        File.WriteAllText(Path.Combine(Build, "XrfEdge.Retired.dll"), "release 1 only");
        Assert.Equal(0, Install(script: Path.Combine(checkout, "scripts", "install.sh")).ExitCode);
        var release1 = FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file)));
        File.Delete(Path.Combine(Build, "XrfEdge.Retired.dll"));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");
        Directory.CreateDirectory(Path.Combine(checkout, "firmware-config", "broken.json"));

        var (exitCode, output) = Install(script: Path.Combine(checkout, "scripts", "install.sh"));

        Assert.True(exitCode != 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(release1, FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file))));
        Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.Combine(Stage, "opt")).Select(Path.GetFileName));
    }

    [Fact]
    public void Install_UpgradeWithTheAppFolderBehindALink_SwapsTheFolderItNamesAndKeepsTheLink()
    {
        // A site that keeps the app on a data partition: /opt/xrfedge -> ../data/xrfedge. Renaming the link itself
        // would have put the new release on the root partition and left the old one where the link pointed.
        // The first install onto the partition needs the folder made first (a missing one is refused: see the next test).
        File.WriteAllText(Path.Combine(Build, "XrfEdge.Retired.dll"), "release 1 only");
        string data = Path.Combine(Stage, "data", "xrfedge");
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(Path.Combine(Stage, "opt"));
        File.CreateSymbolicLink(Prefix, Path.Combine("..", "data", "xrfedge"));
        Assert.Equal(0, Install().ExitCode);
        File.Delete(Path.Combine(Build, "XrfEdge.Retired.dll"));

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal(Path.Combine("..", "data", "xrfedge"), new FileInfo(Prefix).LinkTarget);
        Assert.True(File.Exists(Path.Combine(data, "xrfedge.dll")));
        Assert.False(File.Exists(Path.Combine(data, "XrfEdge.Retired.dll")));
        Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.GetDirectoryName(data)!).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("mount point present")] // the data partition not mounted: its mount point is an empty folder on the root card
    [InlineData("mount point missing")] // a typo in the link, or the mount point itself gone
    [InlineData("a file there")] // the link names something that is no folder
    public void Install_WithTheAppFolderALinkToAMissingFolder_ChangesNothingAndNamesTheLinkAndItsTarget(string target)
    {
        // /opt/xrfedge -> ../data/xrfedge on an instrument whose data partition failed to mount. install.sh resolved the
        // link and installed a fresh release under the empty mount point, on the root card (exit 0, not a word); with the
        // mount point missing too, `readlink -f` failed and set -e ended the run with exit 1 and no message at all.
        string data = Path.Combine(Stage, "data");
        if (target != "mount point missing")
        {
            Directory.CreateDirectory(data);
        }

        if (target == "a file there")
        {
            File.WriteAllText(Path.Combine(data, "xrfedge"), "not the app folder");
        }

        Directory.CreateDirectory(Path.Combine(Stage, "opt"));
        File.CreateSymbolicLink(Prefix, Path.Combine("..", "data", "xrfedge"));

        var (exitCode, output) = Install();

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("/opt/xrfedge is a symbolic link to ../data/xrfedge", output, StringComparison.Ordinal);
        Assert.Contains("/data/xrfedge " + (target == "a file there" ? "is not a folder" : "does not exist"), output, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", output, StringComparison.Ordinal);
        Assert.Equal(target == "a file there" ? ["xrfedge"] : [], Directory.Exists(data) ? Directory.GetFileSystemEntries(data).Select(Path.GetFileName) : []);
        Assert.False(Directory.Exists(Path.Combine(Stage, "etc", "systemd")));
        Assert.Equal(Path.Combine("..", "data", "xrfedge"), new FileInfo(Prefix).LinkTarget);
    }

    [Fact]
    public void Install_AfterASwapBehindALinkWasCutOff_PutsThePreviousReleaseBackWhereTheLinkPoints()
    {
        // Power lost between the swap's two renames: the folder the link names is missing and its release lies whole
        // beside it as .xrfedge.old. That link is dangling too, but the next install must restore, not refuse.
        string data = Path.Combine(Stage, "data", "xrfedge");
        Directory.CreateDirectory(data);
        Directory.CreateDirectory(Path.Combine(Stage, "opt"));
        File.CreateSymbolicLink(Prefix, Path.Combine("..", "data", "xrfedge"));
        Assert.Equal(0, Install().ExitCode);
        File.WriteAllText(Path.Combine(data, "models", "site-encoder.int8.onnx"), "the operator's model");
        Directory.Move(data, Path.Combine(Stage, "data", ".xrfedge.old"));

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("restored", output, StringComparison.Ordinal);
        Assert.Equal("the operator's model", File.ReadAllText(Path.Combine(data, "models", "site-encoder.int8.onnx")));
        Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.GetDirectoryName(data)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Install_UpgradeToAReleaseWithoutTwoProfiles_RemovesTheUneditedOneAndKeepsTheEditedOne()
    {
        // firmware-config/ is carried into the new release for the site's files in it; a profile the previous install
        // shipped (its .installed.sha256 says so) and the new release no longer ships is a retired file like an assembly.
        string checkout = CopyCheckout("checkout", "pi-dp5-uart.json");
        foreach (string retired in new[] { "simulator.json", "jetson-spi.json" })
        {
            File.Copy(RepositoryRoot.Combine("firmware-config", retired), Path.Combine(checkout, "firmware-config", retired));
        }

        string script = Path.Combine(checkout, "scripts", "install.sh");
        Assert.Equal(0, Install(script: script).ExitCode);
        string profiles = Path.Combine(Prefix, "firmware-config");
        File.AppendAllText(Path.Combine(profiles, "jetson-spi.json"), "\n");
        File.Delete(Path.Combine(checkout, "firmware-config", "simulator.json"));
        File.Delete(Path.Combine(checkout, "firmware-config", "jetson-spi.json"));

        var (exitCode, output) = Install(script: script);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.False(File.Exists(Path.Combine(profiles, "simulator.json")));
        Assert.Equal(File.ReadAllText(RepositoryRoot.Combine("firmware-config", "jetson-spi.json")) + "\n", File.ReadAllText(Path.Combine(profiles, "jetson-spi.json")));
        Assert.True(File.Exists(Path.Combine(profiles, "pi-dp5-uart.json")));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void Install_FromABuildFolderOnlyItsOwnerCanEnter_LeavesAnAppFolderTheServiceUserCanRead()
    {
        // install.sh's own build goes to `mktemp -d` (mode 0700, and owned by $SUDO_USER under sudo); `cp -a build/.`
        // gave /opt/xrfedge that mode and owner, so User=xrfedge could not even reach the executable (203/EXEC).
        File.SetUnixFileMode(Build, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        bool root = Environment.UserName == "root";
        if (root)
        {
            Assert.Equal(0, Run("chown", "-R", "nobody", Build));
        }

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Assert.Equal(readable, File.GetUnixFileMode(Prefix));
        Assert.Equal(readable, File.GetUnixFileMode(Path.Combine(Prefix, "runtimes", "linux-arm64", "native")));
        Assert.True(File.GetUnixFileMode(Path.Combine(Prefix, "xrfedge.dll")).HasFlag(UnixFileMode.OtherRead));
        if (root)
        {
            Assert.Equal("root", Owner(Prefix));
            Assert.Equal("root", Owner(Path.Combine(Prefix, "xrfedge.dll")));
        }
    }

    [Fact]
    public void Install_UpgradeToAReleaseWithoutOneOfItsModelFiles_RemovesTheOldReleasesCopyAndKeepsTheOperatorsModel()
    {
        // models/ is carried into the new release for a model the operator placed there (Model:Path names it). Carried
        // whole, it also kept every model file an earlier release shipped and this one does not (a dropped fp32 export,
        // a renamed model): the shipped model's files are told from the operator's by the install's record, as profiles are.
        string checkout = CheckoutWithModel("checkout", ("xrf-line-encoder.int8.onnx", "model 1"), ("xrf-line-encoder.fp32.onnx", "model 1 fp32"));
        string script = Path.Combine(checkout, "scripts", "install.sh");
        Assert.Equal(0, Install(script: script).ExitCode);
        string models = Path.Combine(Prefix, "models");
        File.WriteAllText(Path.Combine(models, "site-encoder.int8.onnx"), "the operator's model");
        File.WriteAllText(Path.Combine(checkout, "models", "xrf-line-encoder.int8.onnx"), "model 2");
        File.Delete(Path.Combine(checkout, "models", "xrf-line-encoder.fp32.onnx"));

        var (exitCode, output) = Install(script: script);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal("model 2", File.ReadAllText(Path.Combine(models, "xrf-line-encoder.int8.onnx")));
        Assert.False(File.Exists(Path.Combine(models, "xrf-line-encoder.fp32.onnx")));
        Assert.Contains("models/xrf-line-encoder.fp32.onnx", output, StringComparison.Ordinal);
        Assert.Equal("the operator's model", File.ReadAllText(Path.Combine(models, "site-encoder.int8.onnx")));
        Assert.Empty(Directory.GetFiles(models, "*.edited-*"));
    }

    [Fact]
    public void Install_UpgradeAfterTheShippedModelWasReplacedInPlace_KeepsTheReplacementBesideTheNewModel()
    {
        // A site model written over the shipped file (the path the profiles' Model:Path names) was overwritten by the next
        // install without a word; it is kept as NAME.edited-<UTC>, as an edited profile is, and the output says so.
        string checkout = CheckoutWithModel("checkout", ("xrf-line-encoder.int8.onnx", "model 1"));
        string script = Path.Combine(checkout, "scripts", "install.sh");
        Assert.Equal(0, Install(script: script).ExitCode);
        string model = Path.Combine(Prefix, "models", "xrf-line-encoder.int8.onnx");
        File.WriteAllText(model, "the site's retrained model");
        File.WriteAllText(Path.Combine(checkout, "models", "xrf-line-encoder.int8.onnx"), "model 2");

        var (exitCode, output) = Install(script: script);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Equal("model 2", File.ReadAllText(model));
        string kept = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(model)!, "xrf-line-encoder.int8.onnx.edited-*"));
        Assert.Equal("the site's retrained model", File.ReadAllText(kept));
        Assert.Contains(Path.GetFileName(kept), output, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_FirstUpgradeFromAnInstallWithoutTheModelRecord_KeepsAModelThatDiffersOnce()
    {
        // Installs before 2026-11-24 wrote no models/.installed.sha256: a model that differs from this release's may be
        // a site's written over the shipped one, so it is kept (as profiles were when their record was new); the record
        // written then makes the next upgrade replace the shipped model without a copy.
        string checkout = CheckoutWithModel("checkout", ("xrf-line-encoder.int8.onnx", "model 1"));
        string script = Path.Combine(checkout, "scripts", "install.sh");
        Assert.Equal(0, Install(script: script).ExitCode);
        string models = Path.Combine(Prefix, "models");
        File.Delete(Path.Combine(models, ".installed.sha256"));
        File.WriteAllText(Path.Combine(checkout, "models", "xrf-line-encoder.int8.onnx"), "model 2");

        var (exitCode, output) = Install(script: script);
        File.WriteAllText(Path.Combine(checkout, "models", "xrf-line-encoder.int8.onnx"), "model 3");
        var (againExitCode, againOutput) = Install(script: script);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("kept no record", output, StringComparison.Ordinal);
        Assert.True(againExitCode == 0, $"install.sh exit {againExitCode}:\n{againOutput}");
        Assert.Equal("model 3", File.ReadAllText(Path.Combine(models, "xrf-line-encoder.int8.onnx")));
        string kept = Assert.Single(Directory.GetFiles(models, "xrf-line-encoder.int8.onnx.edited-*"));
        Assert.Equal("model 1", File.ReadAllText(kept));
    }

    [Fact]
    public void Install_WhileAnotherInstallHoldsTheFolderOfTheAppFolder_ChangesNothingAndSaysSo()
    {
        // Two runs at once (a provisioning tool and someone at the console) each deleted the other's staged folder
        // (`rm -rf /opt/.xrfedge.new`), and one cut off between the other's renames put the old release back under it.
        // install.sh holds flock(2) on the folder that holds /opt/xrfedge from staging to the end; here `flock` holds it.
        Assert.Equal(0, Install().ExitCode);
        var release1 = FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file)));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");
        var start = new ProcessStartInfo("flock") { RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (string argument in new[] { "--nonblock", Path.Combine(Stage, "opt"), "-c", "echo locked; exec cat" })
        {
            start.ArgumentList.Add(argument);
        }

        using var other = Process.Start(start)!;
        try
        {
            Assert.Equal("locked", other.StandardOutput.ReadLine());

            var (exitCode, output) = Install();

            Assert.True(exitCode != 0, $"install.sh exit {exitCode}:\n{output}");
            Assert.Contains("another install.sh", output, StringComparison.Ordinal);
            Assert.Equal(release1, FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file))));
            Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.Combine(Stage, "opt")).Select(Path.GetFileName));
        }
        finally
        {
            other.StandardInput.Close();
            other.WaitForExit();
        }
    }

    [Fact]
    public void Install_UpgradeOnACardWithoutRoomForASecondCopy_ChangesNothingAndSaysSo()
    {
        // The staged release is a second copy on the partition of /opt/xrfedge, on a Raspberry Pi's one-partition card
        // the outbox's too: staging filled it while the running service wrote its outbox (a full card is a fault the
        // service restarts over, docs/deploy.md §4), and cp's ENOSPC came only then. FakeDf reports 1 MiB free there.
        Assert.Equal(0, Install().ExitCode);
        var release1 = FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file)));
        File.WriteAllText(Path.Combine(Build, "xrfedge.dll"), "release 2");
        string tools = Path.Combine(_root, "fake tools");
        Directory.CreateDirectory(tools);
        File.WriteAllText(Path.Combine(tools, "df"), """
            #!/bin/sh
            echo "Filesystem     1024-blocks  Used Available Capacity Mounted on"
            echo "/dev/mmcblk0p2    29000000 28998976     1024     100% /"
            """ + "\n");
        Assert.Equal(0, Run("chmod", "+x", Path.Combine(tools, "df")));

        var (exitCode, output) = Install(environment: new Dictionary<string, string>
        {
            ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH"),
        });

        Assert.True(exitCode != 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("free", output, StringComparison.Ordinal);
        Assert.Equal(release1, FilesUnder(Prefix).ToDictionary(file => file, file => File.ReadAllText(Path.Combine(Prefix, file))));
        Assert.Equal(["xrfedge"], Directory.GetFileSystemEntries(Path.Combine(Stage, "opt")).Select(Path.GetFileName));
    }

    /// <summary>A checkout as <see cref="CopyCheckout"/> makes it, with <paramref name="models"/> (name, content) in models/.</summary>
    private string CheckoutWithModel(string name, params (string File, string Content)[] models)
    {
        string checkout = CopyCheckout(name, "pi-dp5-uart.json");
        Directory.CreateDirectory(Path.Combine(checkout, "models"));
        foreach (var (file, content) in models)
        {
            File.WriteAllText(Path.Combine(checkout, "models", file), content);
        }

        return checkout;
    }

    /// <summary>Every file under <paramref name="folder"/>, as sorted paths relative to it with '/' separators.</summary>
    private static string[] FilesUnder(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(folder, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)];

    private static string Owner(string path)
    {
        var start = new ProcessStartInfo("stat") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("%U");
        start.ArgumentList.Add(path);
        using var process = Process.Start(start)!;
        string owner = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return owner;
    }
}

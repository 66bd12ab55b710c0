using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace XrfEdge.Service.Tests.Systemd;

/// <summary>
/// install.sh's preflight (since 2026-11-24): before it changes anything it checks, in the root it installs into
/// (<c>DESTDIR</c> here, an image root made of empty stand-in files), what the installed unit needs to start —
/// a 64-bit userland, libmosquitto.so.1 ≥ 2.0, the .NET 10 runtime where the apphost looks, the build's ONNX Runtime —
/// and lists every missing one with its fix. On <c>/</c> it asks the loader's cache (<c>ldconfig -p</c>), replaced here
/// by a fake <c>ldconfig</c> on PATH so that nothing depends on what this machine has installed.
/// </summary>
public sealed partial class InstallScriptTests
{
    /// <summary>What docs/deploy.md §1 sends the integrator to for each need; the preflight must name the same fix.</summary>
    private const string MosquittoFix = "apt-get install libmosquitto1";
    private const string DotnetFix = "dotnet-install.sh";

    [Fact]
    public void Install_IntoARootWithoutTheRuntimeNeeds_ListsEachWithItsFixAndInstallsNothing()
    {
        // A bare 64-bit device: its loader, nothing else. Until 2026-11-24 install.sh installed and enabled a unit that
        // then failed at every start (no libmosquitto, no .NET), one cause per journal read.
        string bare = Path.Combine(_root, "bare device");
        AddLoader(bare);
        Directory.Delete(Path.Combine(Build, "runtimes"), recursive: true);

        var (exitCode, output) = Install(destdir: bare);

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("libmosquitto.so.1", output, StringComparison.Ordinal);
        Assert.Contains(MosquittoFix, output, StringComparison.Ordinal);
        Assert.Contains(".NET 10 runtime", output, StringComparison.Ordinal);
        Assert.Contains(DotnetFix, output, StringComparison.Ordinal);
        Assert.Contains("runtimes/linux-x64/native/libonnxruntime.so.1", output, StringComparison.Ordinal);
        Assert.Contains("nothing was installed", output, StringComparison.Ordinal);
        Assert.Equal(new[] { "lib64" }, Directory.GetFileSystemEntries(bare).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void Install_IntoA32BitRoot_SaysThatOnly64BitIsSupported()
    {
        // 32-bit Raspberry Pi OS (docs/deploy.md §1: not supported): no 64-bit loader, whatever `uname -m` says.
        string armhf = Path.Combine(_root, "armhf device");
        Directory.CreateDirectory(Path.Combine(armhf, "lib"));
        File.WriteAllText(Path.Combine(armhf, "lib", "ld-linux-armhf.so.3"), "");

        var (exitCode, output) = Install(destdir: armhf);

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("64-bit userland", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(armhf, "opt")));
    }

    [Fact]
    public void Install_WithLibmosquitto16_NamesTheVersionFoundAndTheOneNeeded()
    {
        // Ubuntu 20.04 (JetPack 5) ships libmosquitto1 1.6.9; the service needs 2.0 (MosquittoTransport refuses older).
        ProvideMosquitto(Path.Combine(Stage, "usr", "lib", "x86_64-linux-gnu"), "libmosquitto.so.1.6.9");

        var (exitCode, output) = Install();

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("version 1.6.9", output, StringComparison.Ordinal);
        Assert.Contains("2.0 or later", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Prefix));
    }

    [Theory]
    [InlineData("MOSQ_1.6", false)] // 1.x (Ubuntu 20.04's 1.6.9, Debian 10's 1.5.7): the highest version node is MOSQ_1.6
    [InlineData("MOSQ_1.7", true)] // 2.x exports its 2.0 symbols under MOSQ_1.7 (mosquitto lib/linker.version)
    public void Install_WithAnUnversionedLibmosquittoFile_TellsA1xBuildByItsSymbolVersions(string highestNode, bool accepted)
    {
        // 1.x's Makefile build installs the library as plain libmosquitto.so.1, with no version in the file name; until
        // 2026-11-24 that name was taken for "version unknown" and passed, and the service refused 1.6 at every start.
        string folder = Path.Combine(Stage, "usr", "lib", "x86_64-linux-gnu");
        File.Delete(Path.Combine(folder, "libmosquitto.so.1"));
        File.Delete(Path.Combine(folder, "libmosquitto.so.2.0.11"));
        File.WriteAllBytes(Path.Combine(folder, "libmosquitto.so.1"), Elf(62, "MOSQ_1.0\0MOSQ_1.5\0" + highestNode + "\0"));

        var (exitCode, output) = Install();

        if (accepted)
        {
            Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        }
        else
        {
            Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
            Assert.Contains("older than 2.0", output, StringComparison.Ordinal);
            Assert.Contains(MosquittoFix, output, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Prefix));
        }
    }

    [Theory]
    [InlineData(40, false)] // EM_ARM: the arm32 .NET tarball
    [InlineData(62, true)] // EM_X86_64, this x64 image root's own
    public void Install_WithADotnetRuntimeForAnotherCpu_NamesItsArchitecture(int machine, bool accepted)
    {
        // The arm32 tarball many Raspberry Pi guides link has every folder the check looked for; the arm64 apphost
        // cannot load its libhostfxr.so. Until 2026-11-24 the preflight said the runtime was there.
        File.WriteAllBytes(Path.Combine(Stage, "usr", "share", "dotnet", "host", "fxr", "10.0.0", "libhostfxr.so"), Elf((ushort)machine, ""));

        var (exitCode, output) = Install();

        if (accepted)
        {
            Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        }
        else
        {
            Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
            Assert.Contains("libhostfxr.so", output, StringComparison.Ordinal);
            Assert.Contains("built for arm32", output, StringComparison.Ordinal);
            Assert.Contains(DotnetFix, output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("DOTNET_ROOT=/usr/share/dotnet \n", null)] // a blank left at the end of the line
    [InlineData("XRFEDGE_PROFILE=pi-dp5-uart\r\nDOTNET_ROOT=/usr/share/dotnet\r\n", null)] // saved on Windows
    [InlineData("DOTNET_ROOT=\"/usr/share/dotnet\"  \n", null)]
    [InlineData("DOTNET_ROOT = /opt/dotnet-old\n", "/opt/dotnet-old")] // systemd reads blanks around '=' as nothing
    [InlineData("; DOTNET_ROOT=/opt/dotnet-old\nDOTNET_ROOT=/opt/dotnet-old\nDOTNET_ROOT=/usr/share/dotnet\n", null)] // the last wins
    public void Install_DotnetRootInTheEnvFile_ReadAsSystemdReadsIt(string envFile, string? refusedFolder)
    {
        // systemd.exec(5), EnvironmentFile=: a carriage return ends a line, blanks around the name and at the end of an
        // unquoted value are dropped, ';' and '#' start comments. Until 2026-11-24 the preflight's sed kept the blank
        // and the '\r' (a good runtime refused as missing) and missed "DOTNET_ROOT = …" (the stale folder not checked).
        Directory.CreateDirectory(Path.Combine(Stage, "etc", "xrfedge"));
        File.WriteAllText(Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env"), envFile);

        var (exitCode, output) = Install();

        if (refusedFolder is null)
        {
            Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        }
        else
        {
            Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
            Assert.Contains($"is not in {refusedFolder} (DOTNET_ROOT in /etc/xrfedge/xrfedge.env)", output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("10.0.0-rc.2.25502.107", false)] // SemVer: a pre-release is below its release, the 10.0.0 the build asks for
    [InlineData("10.0.3", true)]
    public void Install_WithOnlyAReleaseCandidateOfTheVersionAskedFor_RefusesIt(string installed, bool accepted)
    {
        // sort -V puts "10.0.0-rc.2…" after "10.0.0"; the host does not (it refuses to run a 10.0.0 app on it).
        string shared = Path.Combine(Stage, "usr", "share", "dotnet", "shared", "Microsoft.NETCore.App");
        Directory.Delete(shared, recursive: true);
        Directory.CreateDirectory(Path.Combine(shared, installed));

        var (exitCode, output) = Install();

        Assert.True(exitCode == (accepted ? 0 : 1), $"install.sh exit {exitCode}:\n{output}");
        if (!accepted)
        {
            Assert.Contains($"only {installed}", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Install_WithAnOlderDotnetOnly_NamesWhatItFound()
    {
        string shared = Path.Combine(Stage, "usr", "share", "dotnet", "shared", "Microsoft.NETCore.App");
        Directory.Delete(shared, recursive: true);
        Directory.CreateDirectory(Path.Combine(shared, "8.0.11"));

        var (exitCode, output) = Install();

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("Microsoft.NETCore.App 10.0.0", output, StringComparison.Ordinal);
        Assert.Contains("only 8.0.11", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_WithDotnetElsewhere_IsAcceptedOnlyWhenRegisteredWhereTheApphostLooks()
    {
        // Ubuntu's own dotnet packages live in /usr/lib/dotnet and register it in /etc/dotnet/install_location; the
        // apphost does not search PATH, so an unregistered folder is not found by the service.
        string usrShare = Path.Combine(Stage, "usr", "share", "dotnet");
        Directory.Move(usrShare, Path.Combine(Stage, "usr", "lib", "dotnet"));

        var (unregistered, output) = Install();
        Assert.True(unregistered == 1, $"install.sh exit {unregistered}:\n{output}");
        Assert.Contains("is not in /usr/share/dotnet (the default", output, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(Stage, "etc", "dotnet"));
        File.WriteAllText(Path.Combine(Stage, "etc", "dotnet", "install_location"), "/usr/lib/dotnet\n");
        var (registered, output2) = Install();
        Assert.True(registered == 0, $"install.sh exit {registered}:\n{output2}");
    }

    [Fact]
    public void Install_WithTheOnnxRuntimeNamedInTheSiteSettings_ChecksThatFileInstead()
    {
        // JetPack: a GPU build of ONNX Runtime named in xrfedge.env (docs/inference.md); the build's own CPU library is
        // then not what the service loads, and a path that does not exist stops it at every start.
        Directory.Delete(Path.Combine(Build, "runtimes"), recursive: true);
        Directory.CreateDirectory(Path.Combine(Stage, "etc", "xrfedge"));
        File.WriteAllText(Path.Combine(Stage, "etc", "xrfedge", "xrfedge.env"), "XRFEDGE_ONNXRUNTIME_PATH=/usr/lib/ort-gpu/libonnxruntime.so.1\n");

        var (missing, output) = Install();
        Assert.True(missing == 1, $"install.sh exit {missing}:\n{output}");
        Assert.Contains("/usr/lib/ort-gpu/libonnxruntime.so.1, named in /etc/xrfedge/xrfedge.env, does not exist", output, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.Combine(Stage, "usr", "lib", "ort-gpu"));
        File.WriteAllText(Path.Combine(Stage, "usr", "lib", "ort-gpu", "libonnxruntime.so.1"), "");
        var (present, output2) = Install();
        Assert.True(present == 0, $"install.sh exit {present}:\n{output2}");
    }

    [Fact]
    public void Install_SelfContainedBuild_NeedsNoDotnet()
    {
        Directory.Delete(Path.Combine(Stage, "usr", "share", "dotnet"), recursive: true);
        File.WriteAllText(Path.Combine(Build, "xrfedge.runtimeconfig.json"), """
            {
              "runtimeOptions": {
                "tfm": "net10.0",
                "includedFrameworks": [
                  { "name": "Microsoft.NETCore.App", "version": "10.0.0" }
                ]
              }
            }
            """);

        var (exitCode, output) = Install();

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
    }

    [Fact]
    public void Install_WithSkipPreflight_StagesIntoAFolderThatIsNoRoot()
    {
        string staging = Path.Combine(_root, "package staging");

        var (exitCode, output) = Install(destdir: staging, arguments: ["--skip-preflight"]);

        Assert.True(exitCode == 0, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("preflight skipped", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(staging, "opt", "xrfedge", "xrfedge.dll")));
    }

    [Theory]
    [InlineData(null, "is not on the library path of /")] // libmosquitto1 not installed
    [InlineData("libmosquitto.so.1.6.9", "is version 1.6.9")] // Ubuntu 20.04's
    [SupportedOSPlatform("linux")]
    public void Check_OnTheRealRoot_AsksTheLoadersCache(string? installedFile, string expected)
    {
        // Without DESTDIR the preflight checks this machine: libraries through `ldconfig -p`, here a fake that lists
        // what the test says (lines as glibc's ldconfig prints them), so the result does not depend on this machine.
        string tools = Path.Combine(_root, "fake ldconfig");
        Directory.CreateDirectory(tools);
        string cache = "1 libs found in cache `/etc/ld.so.cache'\n";
        if (installedFile is not null)
        {
            ProvideMosquitto(tools, installedFile);
            string tag = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "libc6,AArch64" : "libc6,x86-64";
            cache += $"\tlibmosquitto.so.1 ({tag}) => {Path.Combine(tools, "libmosquitto.so.1")}\n";
        }

        File.WriteAllText(Path.Combine(tools, "ld.so.cache.txt"), cache);
        string ldconfig = Path.Combine(tools, "ldconfig");
        File.WriteAllText(ldconfig, "#!/bin/sh\ncat \"$(dirname \"$0\")/ld.so.cache.txt\"\n");
        File.SetUnixFileMode(ldconfig, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exitCode, output) = Install(destdir: "", arguments: ["--check"], environment: new Dictionary<string, string>
        {
            ["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH"),
        });

        Assert.True(exitCode == 1, $"install.sh exit {exitCode}:\n{output}");
        Assert.Contains("libmosquitto.so.1", output, StringComparison.Ordinal);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    /// <summary>What a ready x64 image root holds for the preflight: loader, libmosquitto 2.0.11 (Debian 12's), .NET 10.</summary>
    private static void ProvideRuntimeNeeds(string root)
    {
        AddLoader(root);
        ProvideMosquitto(Path.Combine(root, "usr", "lib", "x86_64-linux-gnu"), "libmosquitto.so.2.0.11");
        string dotnet = Path.Combine(root, "usr", "share", "dotnet");
        Directory.CreateDirectory(Path.Combine(dotnet, "host", "fxr", "10.0.0"));
        File.WriteAllText(Path.Combine(dotnet, "host", "fxr", "10.0.0", "libhostfxr.so"), "");
        Directory.CreateDirectory(Path.Combine(dotnet, "shared", "Microsoft.NETCore.App", "10.0.0"));
    }

    /// <summary>The x64 glibc loader, the ELF interpreter of an x64 apphost (an arm64 one is /lib/ld-linux-aarch64.so.1).</summary>
    private static void AddLoader(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "lib64"));
        File.WriteAllText(Path.Combine(root, "lib64", "ld-linux-x86-64.so.2"), "");
    }

    /// <summary>libmosquitto.so.1 as a link to <paramref name="file"/>, the way the libmosquitto1 package lays it out.</summary>
    private static void ProvideMosquitto(string folder, string file)
    {
        Directory.CreateDirectory(folder);
        string link = Path.Combine(folder, "libmosquitto.so.1");
        File.Delete(link);
        File.WriteAllText(Path.Combine(folder, file), "");
        File.CreateSymbolicLink(link, file);
    }

    /// <summary>
    /// A stand-in shared library: a 64-bit little-endian ELF header (System V gABI, "ELF Header": e_ident, e_type at byte
    /// 16, e_machine at 18) for <paramref name="machine"/>, then <paramref name="strings"/> as a string table would hold them.
    /// </summary>
    private static byte[] Elf(ushort machine, string strings)
    {
        var bytes = new byte[64];
        bytes[0] = 0x7f;
        bytes[1] = (byte)'E';
        bytes[2] = (byte)'L';
        bytes[3] = (byte)'F';
        bytes[4] = 2; // ELFCLASS64
        bytes[5] = 1; // ELFDATA2LSB
        bytes[6] = 1; // EV_CURRENT
        bytes[16] = 3; // ET_DYN
        bytes[18] = (byte)(machine & 0xff);
        bytes[19] = (byte)(machine >> 8);
        return [.. bytes, .. System.Text.Encoding.ASCII.GetBytes(strings)];
    }

    /// <summary>xrfedge.runtimeconfig.json as `dotnet publish --self-contained false` writes it for net10.0.</summary>
    private static void WriteFrameworkDependentConfig(string build) => File.WriteAllText(Path.Combine(build, "xrfedge.runtimeconfig.json"), """
        {
          "runtimeOptions": {
            "tfm": "net10.0",
            "framework": {
              "name": "Microsoft.NETCore.App",
              "version": "10.0.0"
            },
            "configProperties": {
              "System.GC.Server": false
            }
          }
        }
        """);

    /// <summary>The libraries the build copies from onnxruntime-node (XrfEdge.Inference.csproj), as empty stand-ins.</summary>
    private static void AddOnnxRuntime(string build)
    {
        foreach (string rid in new[] { "linux-x64", "linux-arm64" })
        {
            string native = Path.Combine(build, "runtimes", rid, "native");
            Directory.CreateDirectory(native);
            File.WriteAllText(Path.Combine(native, "libonnxruntime.so.1"), "");
        }
    }
}

using System.Diagnostics;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Tests.Support;

namespace XrfEdge.Devices.Tests.Native;

/// <summary>The termios serial port over real pty pairs made by socat (as /dev/ttyUSB* would be opened).</summary>
public sealed class SerialPortTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-serial-").FullName;
    private Process? _socat;

    private (string A, string B) SocatPair()
    {
        var a = Path.Combine(_dir, "a");
        var b = Path.Combine(_dir, "b");
        _socat = Process.Start(new ProcessStartInfo("socat", $"-d -d pty,raw,echo=0,link={a} pty,raw,echo=0,link={b}") { RedirectStandardError = true })
            ?? throw new InvalidOperationException("socat did not start (scripts/install-deps.sh installs it)");

        // socat logs the second pty after both links exist ("starting data transfer loop"); wait for that line, not for time.
        while (_socat.StandardError.ReadLine() is { } line && !line.Contains("starting data transfer loop", StringComparison.Ordinal))
        {
        }

        return (a, b);
    }

    [Fact]
    public void OpenWriteRead_SocatPair_BytesCrossUnchanged()
    {
        var (a, b) = SocatPair();
        using var left = new SerialPort(a, 115200) { ReadTimeout = 5000 };
        using var right = new SerialPort(b, 115200) { ReadTimeout = 5000 };
        left.Open();
        right.Open();

        // Every byte value, including 0x11/0x13 (XON/XOFF) and CR/LF, must pass: the line is raw without flow control.
        var sent = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        left.Write(sent, 0, sent.Length);
        var received = new byte[256];
        var total = 0;
        while (total < received.Length)
        {
            total += right.Read(received, total, received.Length - total);
        }

        Assert.Equal(sent, received);
        Assert.Equal(0, right.BytesToRead);
    }

    [Fact]
    public void Read_NothingSent_ThrowsTimeoutAfterReadTimeout()
    {
        var (a, _) = SocatPair();
        using var port = new SerialPort(a) { ReadTimeout = 50 };
        port.Open();
        Assert.Throws<TimeoutException>(() => port.Read(new byte[8], 0, 8));
    }

    [Fact]
    public async Task ReadAsync_Cancelled_ThrowsOperationCanceled()
    {
        var (a, _) = SocatPair();
        using var port = new SerialPort(a);
        port.Open();
        using var cts = new CancellationTokenSource();
        var read = port.BaseStream.ReadAsync(new byte[8], cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    /// <summary>Descriptors of this process open on <paramref name="path"/> (its symlink resolved), from /proc/self/fd.</summary>
    private static int DescriptorsOpenOn(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        return new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Count(fd =>
        {
            try
            {
                return fd.LinkTarget == target;
            }
            catch (IOException)
            {
                return false; // closed between listing and reading
            }
        });
    }

    [Fact]
    public void BaseStream_Disposed_ClosesThePortsDescriptor()
    {
        // Dp5Session knows only the stream its connect delegate returned (acquire passes SerialPort.BaseStream) and
        // disposes it on a link loss and at the end; that must close the tty, as System.IO.Ports' BaseStream does,
        // not leave the descriptor (and its TIOCEXCL claim) open until a finaliser runs.
        var (a, _) = SocatPair();
        var before = DescriptorsOpenOn(a);
        var port = new SerialPort(a);
        port.Open();
        Assert.Equal(before + 1, DescriptorsOpenOn(a));

        port.BaseStream.Dispose();

        Assert.False(port.IsOpen);
        Assert.Equal(before, DescriptorsOpenOn(a));
        port.Dispose(); // and closing the port afterwards is harmless
    }

    [Fact]
    public void Read_AfterBaseStreamDisposed_RefusedRatherThanReadingWhateverReusedTheDescriptor()
    {
        // Once BaseStream closes the port, its fd number is free: the next open (here a file, in the instrument an
        // outbox or a log) gets the lowest free number, which is very likely the same one. A later Read or BytesToRead
        // through the old port must not touch that descriptor.
        var (a, _) = SocatPair();
        var port = new SerialPort(a) { ReadTimeout = 100 };
        port.Open();
        port.BaseStream.Dispose();
        var file = Path.Combine(_dir, "reused");
        File.WriteAllText(file, "not from the serial port");
        using var reused = File.OpenRead(file);

        Assert.Throws<ObjectDisposedException>(() => port.Read(new byte[64], 0, 64));
        Assert.Throws<ObjectDisposedException>(() => port.Write([0xF5, 0xFA], 0, 2));
        Assert.Throws<ObjectDisposedException>(() => port.BytesToRead);
        port.Dispose();
    }

    [Fact]
    public async Task ReadAsync_PeerPtyDisappears_ThrowsIOExceptionPromptly()
    {
        // socat holds both pty masters: killing it is a USB-serial adapter pulled while a read waits.
        var (a, _) = SocatPair();
        using var port = new SerialPort(a);
        port.Open();
        var read = port.BaseStream.ReadAsync(new byte[8]).AsTask();
        await Task.Delay(100);
        _socat!.Kill();
        await _socat.WaitForExitAsync();

        var e = await Assert.ThrowsAnyAsync<IOException>(() => read.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains(a, e.Message, StringComparison.Ordinal);
        Assert.Throws<IOException>(() => port.Write([0xF5, 0xFA], 0, 2));
    }

    [Fact]
    public async Task IsHungUp_LivePeerThenPeerGone_FalseThenTrueWithoutReading()
    {
        // The DP5 source polls this once a second between measurements and closes the port when it is true: a false
        // positive would reopen a healthy port (and re-apply the profile) before every measurement.
        var (a, _) = SocatPair();
        using var port = new SerialPort(a);
        port.Open();
        var signal = Assert.IsAssignableFrom<IHangUpSignal>(port.BaseStream);
        Assert.False(signal.IsHungUp);

        _socat!.Kill(); // the adapter is pulled
        await _socat.WaitForExitAsync();

        Assert.True(signal.IsHungUp);
        port.Close();
        Assert.True(signal.IsHungUp); // a closed port counts as hung up, and asking does not throw
    }

    [Fact]
    public unsafe void Open_SocatPty_ReadsTheSettingsBackAndOpens()
    {
        // A pty keeps every setting we make (8N1 raw at 115200), so the read-back after tcsetattr passes.
        var (a, _) = SocatPair();
        var termios = new FakeTermios(_ => { });
        using var port = new SerialPort(a, 115200, termios);
        port.Open();

        Assert.True(port.IsOpen);
        Assert.Equal(2, termios.GetAttrCalls); // the settings to change, then the read-back
    }

    [Theory]
    [InlineData("the line speed")]
    [InlineData("the character size")]
    [InlineData("parity off")]
    [InlineData("one stop bit")]
    [InlineData("hardware flow control off")]
    [InlineData("software flow control off")]
    [InlineData("raw input")]
    [InlineData("raw output")]
    [InlineData("raw mode")]
    [InlineData("VMIN")]
    [InlineData("VTIME")]
    public unsafe void Open_DriverSilentlyIgnoresASetting_ThrowsNamingDeviceAndFieldAndCloses(string field)
    {
        // tcsetattr succeeded, but the settings read back differ in one field, as after a driver that cannot do it.
        var (a, _) = SocatPair();
        var before = DescriptorsOpenOn(a);
        using var port = new SerialPort(a, 115200, new FakeTermios(t => Ignore(field, t)));

        var e = Assert.Throws<IOException>(port.Open);

        Assert.Contains(a, e.Message, StringComparison.Ordinal);
        Assert.Contains($"did not keep {field}", e.Message, StringComparison.Ordinal);
        Assert.False(port.IsOpen);
        Assert.Equal(before, DescriptorsOpenOn(a));
    }

    [Fact]
    public unsafe void Open_DriverKeepsAnotherSpeed_MessageSaysBothRates()
    {
        // An adapter without 115200 that fell back to 9600 (the DP5's rates are 115200, 57600, 19200; guide §4.1.36).
        var (a, _) = SocatPair();
        using var port = new SerialPort(a, 115200, new FakeTermios(t => Ignore("the line speed", t)));

        var e = Assert.Throws<IOException>(port.Open);

        Assert.Contains("asked 115200 baud", e.Message, StringComparison.Ordinal);
        Assert.Contains("read back 9600 baud", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Undoes, in a read-back struct, the setting <paramref name="field"/> names (flag values: asm-generic/termbits.h).</summary>
    private static unsafe void Ignore(string field, LibC.Termios* t)
    {
        switch (field)
        {
            case "the line speed":
                _ = LibC.CfSetISpeed(t, LibC.B9600);
                _ = LibC.CfSetOSpeed(t, LibC.B9600);
                break;
            case "the character size":
                t->c_cflag = (t->c_cflag & ~LibC.CSIZE) | 0x20; // CS7
                break;
            case "parity off":
                t->c_cflag |= LibC.PARENB;
                break;
            case "one stop bit":
                t->c_cflag |= LibC.CSTOPB;
                break;
            case "hardware flow control off":
                t->c_cflag |= LibC.CRTSCTS;
                break;
            case "software flow control off":
                t->c_iflag |= LibC.IXON | LibC.IXOFF;
                break;
            case "raw input":
                t->c_iflag |= LibC.ICRNL;
                break;
            case "raw output":
                t->c_oflag |= LibC.OPOST;
                break;
            case "raw mode":
                t->c_lflag |= LibC.ICANON | LibC.ECHO;
                break;
            case "VMIN":
                t->c_cc[LibC.VMIN] = 0;
                break;
            case "VTIME":
                t->c_cc[LibC.VTIME] = 1;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field, "no such setting");
        }
    }

    [Fact]
    public void Open_PortAlreadyOpenElsewhere_RefusedEvenForRootAndFreedByTheFirstClose()
    {
        // TIOCEXCL does not stop a process with CAP_SYS_ADMIN (tty_open), so `sudo xrfedge acquire` on the service's
        // port used to open it and interleave its requests with the service's (its clear F0/01 wiping the running
        // measurement). The tests run as root, so this is that case. The port also takes flock(LOCK_EX|LOCK_NB), which
        // binds root too (review 2026-11-24).
        var (a, _) = SocatPair();
        var before = DescriptorsOpenOn(a);
        using var first = new SerialPort(a);
        first.Open();
        using var second = new SerialPort(a);

        var e = Assert.Throws<IOException>(second.Open);

        Assert.Contains(a, e.Message, StringComparison.Ordinal);
        Assert.Contains($"fuser {a}", e.Message, StringComparison.Ordinal);
        Assert.False(second.IsOpen);
        Assert.Equal(before + 1, DescriptorsOpenOn(a)); // the refused open closed its descriptor
        first.Close();
        second.Open();
        Assert.True(second.IsOpen);
    }

    [Fact]
    public void Open_PortHeld_OtherProcessesSeeTheLock()
    {
        // util-linux flock(1) -n exits 1 when the file is locked by someone else: what a second xrfedge, picocom or any
        // other flock-aware program meets.
        var (a, _) = SocatPair();
        using var port = new SerialPort(a);
        port.Open();

        using var probe = Process.Start(new ProcessStartInfo("flock", ["--nonblock", "--exclusive", a, "true"]))!;
        probe.WaitForExit();

        Assert.Equal(1, probe.ExitCode);
    }

    [Fact]
    public void Open_MissingDevice_FileNotFoundNamingThePath()
    {
        using var port = new SerialPort("/dev/ttyUSB-xrfedge-missing");
        var e = Assert.Throws<FileNotFoundException>(port.Open);
        Assert.Contains("/dev/ttyUSB-xrfedge-missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RegularFile_ExplainsItIsNotASerialDevice()
    {
        var file = Path.Combine(_dir, "not-a-tty");
        File.WriteAllText(file, "x");
        using var port = new SerialPort(file);
        var e = Assert.Throws<IOException>(port.Open);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenError_AccessDeniedAndBusy_SayWhatToDo()
    {
        // The tests run as root, which bypasses permissions and TIOCEXCL, so the errno mapping is checked directly
        // (EACCES = 13, EBUSY = 16 in asm-generic/errno-base.h).
        var denied = Assert.IsType<UnauthorizedAccessException>(SerialPort.OpenError("/dev/ttyUSB0", 13));
        Assert.Contains("dialout", denied.Message, StringComparison.Ordinal);
        Assert.Contains("udev", denied.Message, StringComparison.Ordinal);
        var busy = Assert.IsType<IOException>(SerialPort.OpenError("/dev/ttyUSB0", 16));
        Assert.Contains("fuser /dev/ttyUSB0", busy.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnsupportedBaud_Refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SerialPort("/dev/ttyS0", 9600));

    [Fact]
    public void PseudoTerminal_Create_SlaveOpensAsSerialPortAndTalksToMaster()
    {
        using var pty = PseudoTerminal.Create();
        using var port = new SerialPort(pty.SlavePath) { ReadTimeout = 5000 };
        port.Open();
        port.Write([0xF5, 0xFA, 0x0D, 0x0A], 0, 4);
        var buffer = new byte[4];
        var n = 0;
        while (n < 4)
        {
            n += pty.MasterStream.Read(buffer, n, 4 - n);
        }

        // 0x0D/0x0A unchanged: the slave is raw (no ICRNL/ONLCR translation).
        Assert.Equal(new byte[] { 0xF5, 0xFA, 0x0D, 0x0A }, buffer);
    }

    public void Dispose()
    {
        if (_socat is { HasExited: false })
        {
            _socat.Kill();
            _socat.WaitForExit();
        }

        _socat?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

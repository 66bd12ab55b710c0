using XrfEdge.Service.Systemd;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Systemd;

public sealed class SystemdNotifierTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Fact]
    public void Notify_AbstractSocket_DeliversOneDatagram()
    {
        using var receiver = new NotifyReceiver();
        using var notifier = new SystemdNotifier(receiver.Address);

        Assert.True(notifier.Notify("READY=1\nSTATUS=idle, offline"));

        Assert.Equal("READY=1\nSTATUS=idle, offline", receiver.WaitFor("READY=1", Wait));
    }

    [Fact]
    public void Notify_PathSocket_Delivers()
    {
        string path = Path.Combine(Path.GetTempPath(), "xrfedge-notify-" + Guid.NewGuid().ToString("N") + ".sock");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        try
        {
            using var notifier = new SystemdNotifier(path);
            Assert.True(notifier.Notify("WATCHDOG=1"));
            var buffer = new byte[64];
            int n = socket.Receive(buffer);
            Assert.Equal("WATCHDOG=1", System.Text.Encoding.UTF8.GetString(buffer, 0, n));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Notify_NoSocket_DoesNothing()
    {
        using var notifier = new SystemdNotifier(null);

        Assert.False(notifier.IsEnabled);
        Assert.False(notifier.Notify("READY=1"));
    }

    [Fact]
    public void Notify_ReceiverGone_ReturnsFalseWithoutThrowing()
    {
        using var notifier = new SystemdNotifier("@xrfedge-nobody-listens-" + Guid.NewGuid().ToString("N"));

        Assert.False(notifier.Notify("READY=1"));
    }

    [Theory]
    [InlineData("30000000", null, 30.0)] // WatchdogSec=30s → WATCHDOG_USEC=30000000
    [InlineData("30000000", "self", 30.0)]
    [InlineData("30000000", "1", null)] // meant for PID 1, not us
    [InlineData("0", null, null)]
    [InlineData(null, null, null)]
    public void WatchdogTimeout_FromEnvironment(string? usec, string? pid, double? expectedSeconds)
    {
        string? ownPid = pid == "self" ? Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) : pid;
        var variables = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = ownPid };

        var timeout = SystemdEnvironment.WatchdogTimeout(n => variables.GetValueOrDefault(n), Environment.ProcessId);

        Assert.Equal(expectedSeconds, timeout?.TotalSeconds);
    }

    [Theory]
    [InlineData("JOURNAL_STREAM", "8:12345", true)]
    [InlineData("INVOCATION_ID", "a1b2", true)]
    [InlineData("TERM", "xterm", false)]
    public void JournalConsole_DetectedFromSystemdVariables(string name, string value, bool expected)
    {
        Assert.Equal(expected, SystemdEnvironment.IsJournalConsole(n => n == name ? value : null));
    }
}

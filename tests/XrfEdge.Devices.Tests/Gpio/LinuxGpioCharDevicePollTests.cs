using System.IO.Pipes;
using System.Runtime.CompilerServices;
using XrfEdge.Devices.Native;

namespace XrfEdge.Devices.Tests.Gpio;

/// <summary>
/// The real binding's poll() handling, on a file descriptor that hangs up as a line request does when its chip goes away
/// (gpiolib-cdev.c linereq_poll answers EPOLLHUP | EPOLLERR once the chip is unregistered: a USB GPIO expander
/// unplugged). No GPIO chip exists here, so the device object is made without its constructor (which opens one) and
/// TryReadEvent is given the read end of a pipe whose write end is closed: poll() then reports POLLHUP without POLLIN.
/// </summary>
public sealed class LinuxGpioCharDevicePollTests
{
    [Fact]
    public void TryReadEvent_OnAHungUpDescriptor_ThrowsInsteadOfReportingNoEdge()
    {
        var device = (LinuxGpioCharDevice)RuntimeHelpers.GetUninitializedObject(typeof(LinuxGpioCharDevice));
        using var pipe = new AnonymousPipeServerStream(PipeDirection.In);
        pipe.DisposeLocalCopyOfClientHandle(); // the write end is gone: the read end hangs up
        int fd = (int)pipe.SafePipeHandle.DangerousGetHandle();

        // Before 2026-11-24 this returned false ("no edge yet") at once, every time: the interlock thread spun on it and
        // never reported the line as unreadable, so an exposure running when the chip went away was not aborted.
        var error = Assert.Throws<IOException>(() => device.TryReadEvent(fd, TimeSpan.FromSeconds(5), out _));
        Assert.Contains("hung up", error.Message, StringComparison.Ordinal);
    }
}

using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XrfEdge.Devices.Native;

/// <summary>
/// libc binding for the GPIO character device (<c>/dev/gpiochipN</c>, uAPI v2, Linux ≥ 5.10): open, ioctl, poll, read,
/// close. Errors become <see cref="IOException"/>s carrying the device path and the C library's own errno text.
/// </summary>
internal sealed partial class LinuxGpioCharDevice : IGpioCharDevice
{
    private const int OpenReadWrite = 2;        // O_RDWR
    private const int OpenCloseOnExec = 0x80000; // O_CLOEXEC (asm-generic/fcntl.h; same value on x86-64 and arm64)
    private const short PollIn = 0x001;          // POLLIN
    private const short PollError = 0x008;       // POLLERR
    private const short PollHangUp = 0x010;      // POLLHUP
    private const short PollInvalid = 0x020;     // POLLNVAL
    private const int Interrupted = 4;           // EINTR

    private readonly SafeFileHandle _chip;
    private readonly string _path;
    private readonly ConcurrentDictionary<int, SafeFileHandle> _requests = new();

    public LinuxGpioCharDevice(string path)
    {
        _path = path;
        int fd = Open(path, OpenReadWrite | OpenCloseOnExec);
        if (fd < 0)
        {
            throw Error($"open {path}");
        }

        _chip = new SafeFileHandle(fd, ownsHandle: true);
        Span<byte> info = stackalloc byte[68];
        unsafe
        {
            fixed (byte* p = info)
            {
                if (Ioctl(fd, GpioV2Abi.GetChipInfo, p) < 0)
                {
                    throw Error($"GPIO_GET_CHIPINFO_IOCTL on {path} (is it a GPIO chip?)");
                }
            }
        }

        Name = System.Text.Encoding.ASCII.GetString(info[..32]).TrimEnd('\0');
        LineCount = (int)BitConverter.ToUInt32(info[64..68]);
    }

    public string Name { get; }

    public int LineCount { get; }

    public unsafe void GetLine(ref GpioV2LineRequest request)
    {
        fixed (GpioV2LineRequest* p = &request)
        {
            if (Ioctl((int)_chip.DangerousGetHandle(), GpioV2Abi.GetLine, p) < 0)
            {
                throw Error($"GPIO_V2_GET_LINE_IOCTL on {_path} (line {request.Offsets[0]})");
            }
        }

        _requests[request.Fd] = new SafeFileHandle(request.Fd, ownsHandle: true);
    }

    public unsafe void GetValues(int requestFd, ref GpioV2LineValues values)
    {
        fixed (GpioV2LineValues* p = &values)
        {
            if (Ioctl(requestFd, GpioV2Abi.GetValues, p) < 0)
            {
                throw Error($"GPIO_V2_LINE_GET_VALUES_IOCTL on {_path}");
            }
        }
    }

    public unsafe void SetValues(int requestFd, ref GpioV2LineValues values)
    {
        fixed (GpioV2LineValues* p = &values)
        {
            if (Ioctl(requestFd, GpioV2Abi.SetValues, p) < 0)
            {
                throw Error($"GPIO_V2_LINE_SET_VALUES_IOCTL on {_path}");
            }
        }
    }

    public unsafe bool TryReadEvent(int requestFd, TimeSpan timeout, out GpioV2LineEvent lineEvent)
    {
        lineEvent = default;
        var poll = new PollFd { Fd = requestFd, Events = PollIn };
        int ready = Poll(&poll, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        if (ready < 0)
        {
            if (Marshal.GetLastPInvokeError() == Interrupted)
            {
                return false;
            }

            throw Error($"poll on a line request of {_path}");
        }

        if (ready == 0)
        {
            return false;
        }

        if ((poll.ReturnedEvents & PollIn) == 0)
        {
            // The kernel answers EPOLLHUP | EPOLLERR once the chip is gone (gpiolib-cdev.c linereq_poll: USB expander
            // unplugged, driver unbound), POLLNVAL for a closed fd. No event will ever come: until 2026-11-24 this
            // returned "no edge yet", at once and forever, so the reading thread spun and never reported the line.
            if ((poll.ReturnedEvents & (PollError | PollHangUp | PollInvalid)) != 0)
            {
                throw new IOException($"poll on a line request of {_path}: hung up (revents 0x{poll.ReturnedEvents:x}); the GPIO chip is gone or the request was released");
            }

            return false;
        }

        fixed (GpioV2LineEvent* p = &lineEvent)
        {
            nint read = Read(requestFd, p, (nuint)sizeof(GpioV2LineEvent));
            if (read < 0)
            {
                throw Error($"read of a line event from {_path}");
            }

            return read == sizeof(GpioV2LineEvent);
        }
    }

    public void CloseLine(int requestFd)
    {
        if (_requests.TryRemove(requestFd, out var handle))
        {
            handle.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var handle in _requests.Values)
        {
            handle.Dispose();
        }

        _requests.Clear();
        _chip.Dispose();
    }

    private static IOException Error(string what) =>
        new($"{what}: {Marshal.GetLastPInvokeErrorMessage()} (errno {Marshal.GetLastPInvokeError()})");

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, void* buffer, nuint count);
}

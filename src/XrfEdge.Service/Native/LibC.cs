using System.Runtime.InteropServices;

namespace XrfEdge.Service.Native;

/// <summary>
/// The libc calls the service itself makes: returning start-up memory to the kernel (glibc, Linux ≥ 5.4),
/// <c>statx(2)</c> for the model files' identity (glibc ≥ 2.28, which emulates it on kernels before 4.11), and
/// <c>fcntl(2)</c> for the file status flags of standard input.
/// </summary>
internal static partial class LibC
{
    /// <summary>statx(2) <c>dirfd</c>: paths relative to the working directory.</summary>
    public const int AT_FDCWD = -100;

    /// <summary>statx(2) mask: mode, link count, owner, times, inode, size and blocks (<c>STATX_BASIC_STATS</c>).</summary>
    public const uint STATX_BASIC_STATS = 0x7ff;

    /// <summary>errno: no such file or directory.</summary>
    public const int ENOENT = 2;

    /// <summary>errno: a path component is not a directory.</summary>
    public const int ENOTDIR = 20;

    /// <summary>
    /// statx(2): what the kernel knows of <paramref name="path"/> (symbolic links followed); 0, or −1 with errno. The
    /// structure's layout is the same on every architecture, unlike <c>struct stat</c> (x86-64 and arm64 differ).
    /// </summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatX(int dirFd, string path, int flags, uint mask, out StatXBuffer buffer);

    /// <summary>madvise(2) advice: reclaim the pages now (written back if dirty, dropped if clean); Linux 5.4+.</summary>
    public const int MADV_PAGEOUT = 21;

    /// <summary>madvise(2): advise the kernel about <paramref name="length"/> bytes at the page-aligned <paramref name="address"/>; 0 or −1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int MAdvise(nint address, nuint length, int advice);

    /// <summary>fcntl(2) command: the file status flags of the open file description (asm-generic/fcntl.h).</summary>
    public const int F_GETFL = 3;

    /// <summary>fcntl(2) command: set the file status flags (O_NONBLOCK among them).</summary>
    public const int F_SETFL = 4;

    /// <summary>Non-blocking I/O flag: 00004000 octal in asm-generic/fcntl.h, the same on x86-64 and arm64.</summary>
    public const int O_NONBLOCK = 0x800;

    /// <summary>
    /// fcntl(2) with an int argument; the result, or −1 with errno. fcntl is variadic; an int passed as a named argument
    /// lands where the variadic one is read on x86-64 and on Linux arm64 (AAPCS64 puts both in the same register).
    /// </summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    /// <summary>glibc malloc_trim(3): returns free heap memory (top and whole free pages inside the heap) to the kernel; 1 when some was released.</summary>
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    public static partial int MallocTrim(nuint pad);
}

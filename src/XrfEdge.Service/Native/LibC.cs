using System.Runtime.InteropServices;

namespace XrfEdge.Service.Native;

/// <summary>
/// The libc calls the service itself makes: returning start-up memory to the kernel (glibc, Linux ≥ 5.4), and
/// <c>statx(2)</c> for the model files' identity (glibc ≥ 2.28, which emulates it on kernels before 4.11).
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

    /// <summary>glibc malloc_trim(3): returns free heap memory (top and whole free pages inside the heap) to the kernel; 1 when some was released.</summary>
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    public static partial int MallocTrim(nuint pad);
}

/// <summary>
/// The part of the kernel's <c>struct statx</c> (linux/stat.h, 256 bytes, one layout on every architecture) that the
/// service reads. Timestamps are seconds and nanoseconds since the Unix epoch.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct StatXBuffer
{
    /// <summary>Which fields the kernel filled (<c>STATX_*</c> bits).</summary>
    [FieldOffset(0)] public uint Mask;

    /// <summary>Inode number.</summary>
    [FieldOffset(32)] public ulong Inode;

    /// <summary>Size in bytes.</summary>
    [FieldOffset(40)] public ulong Size;

    /// <summary>Last status change (<c>stx_ctime</c>): set by the kernel on every write, rename or <c>utimensat</c>, never by a caller.</summary>
    [FieldOffset(96)] public long ChangeSeconds;

    /// <summary>Nanoseconds of <see cref="ChangeSeconds"/>.</summary>
    [FieldOffset(104)] public uint ChangeNanoseconds;

    /// <summary>Last modification (<c>stx_mtime</c>); <c>touch</c>, <c>cp -p</c> and <c>rsync -t</c> set it to any value.</summary>
    [FieldOffset(112)] public long ModifySeconds;

    /// <summary>Nanoseconds of <see cref="ModifySeconds"/>.</summary>
    [FieldOffset(120)] public uint ModifyNanoseconds;

    /// <summary>Major number of the device holding the file.</summary>
    [FieldOffset(136)] public uint DeviceMajor;

    /// <summary>Minor number of the device holding the file.</summary>
    [FieldOffset(140)] public uint DeviceMinor;
}

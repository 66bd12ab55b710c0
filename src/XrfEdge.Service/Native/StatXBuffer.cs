using System.Runtime.InteropServices;

namespace XrfEdge.Service.Native;

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

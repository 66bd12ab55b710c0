using System.Runtime.InteropServices;

namespace XrfEdge.Service.Native;

/// <summary>The libc calls the service itself makes: returning start-up memory to the kernel (glibc, Linux ≥ 5.4).</summary>
internal static partial class LibC
{
    /// <summary>madvise(2) advice: reclaim the pages now (written back if dirty, dropped if clean); Linux 5.4+.</summary>
    public const int MADV_PAGEOUT = 21;

    /// <summary>madvise(2): advise the kernel about <paramref name="length"/> bytes at the page-aligned <paramref name="address"/>; 0 or −1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int MAdvise(nint address, nuint length, int advice);

    /// <summary>glibc malloc_trim(3): returns free heap memory (top and whole free pages inside the heap) to the kernel; 1 when some was released.</summary>
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    public static partial int MallocTrim(nuint pad);
}

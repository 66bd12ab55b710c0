using System.Globalization;
using System.Runtime.InteropServices;
using XrfEdge.Service.Native;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// Gives back what start-up used and the steady state does not, once the service is READY: the managed garbage of
/// host construction, profile binding, the catalogue and the model bytes (a compacting, decommitting full GC); the
/// native heap ONNX Runtime freed after building its session (<c>malloc_trim</c>); and the clean, read-only pages of
/// the mapped libraries that only start-up touched (<c>madvise(MADV_PAGEOUT)</c> on file-backed, non-writable
/// mappings — ONNX Runtime's kernel registration alone faults in about 20 MB of its 45 MB library). Pages the steady
/// state needs fault back in from the page cache or the disk on first use; pages another process maps are left alone
/// by the kernel. Measured effect: docs/PERFORMANCE.md, "Service".
/// </summary>
internal static class StartupMemoryTrim
{
    /// <summary>Trims and returns VmRSS before and after, in MB (0 where /proc is unavailable).</summary>
    public static (double BeforeMegabytes, double AfterMegabytes, int PagedOutMappings) Trim()
    {
        double before = ResidentMegabytes();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        int pagedOut = 0;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = LibC.MallocTrim(0); // 0 = nothing to release, which is fine
            }
            catch (EntryPointNotFoundException)
            {
                // Not glibc (musl has no malloc_trim): nothing to trim that way.
            }

            pagedOut = PageOutReadOnlyFileMappings();
        }

        return (before, ResidentMegabytes(), pagedOut);
    }

    /// <summary>VmRSS of this process in MB, from /proc/self/status.</summary>
    public static double ResidentMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line.AsSpan(6).Trim().TrimEnd("kB").Trim();
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    private static int PageOutReadOnlyFileMappings()
    {
        string[] maps;
        try
        {
            maps = File.ReadAllLines("/proc/self/maps");
        }
        catch (IOException)
        {
            return 0;
        }

        int count = 0;
        foreach (var line in maps)
        {
            // "start-end perms offset dev inode path": only mappings of real files that this process cannot write
            // (code and read-only data), never the JIT's double-mapped memfd, anonymous memory or writable data.
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || fields[1].Contains('w', StringComparison.Ordinal) || !fields[5].StartsWith('/') || fields[5].StartsWith("/memfd:", StringComparison.Ordinal))
            {
                continue;
            }

            var range = fields[0].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (LibC.MAdvise((nint)start, (nuint)(end - start), LibC.MADV_PAGEOUT) == 0)
            {
                count++;
            }
            else if (Marshal.GetLastPInvokeError() == 22)
            {
                return count; // EINVAL: a kernel before 5.4 has no MADV_PAGEOUT; stop asking
            }
        }

        return count;
    }
}

using System.Globalization;

namespace XrfEdge.Synthesis.Datasets;

/// <summary>Free-space check and quiet clean-up shared by the dataset writers.</summary>
internal static class DiskSpace
{
    /// <summary>
    /// Throws an <see cref="IOException"/> naming <paramref name="output"/> when the file system holding
    /// <paramref name="folder"/> has less than <paramref name="requiredBytes"/> free for this user (statvfs <c>f_bavail</c>),
    /// counting as free the present size of <paramref name="overwrittenFiles"/>: the <c>.partial</c> files of a run that was
    /// killed (SIGKILL, power loss), which this run truncates before it writes.
    /// </summary>
    /// <param name="folder">An existing folder on the disk to be written.</param>
    /// <param name="output">The set's file or folder, as the user named it (for the message).</param>
    /// <param name="requiredBytes">Bytes the set needs.</param>
    /// <param name="count">Spectra asked for (for the message).</param>
    /// <param name="overwrittenFiles">Files in <paramref name="folder"/> that the run truncates (absent ones count 0).</param>
    /// <param name="availableBytes">Free bytes of a folder's disk; null: <see cref="DriveInfo.AvailableFreeSpace"/>.</param>
    public static void EnsureFree(string folder, string output, long requiredBytes, long count, IEnumerable<string> overwrittenFiles, Func<string, long>? availableBytes = null)
    {
        ArgumentNullException.ThrowIfNull(overwrittenFiles);
        var free = (availableBytes ?? AvailableFreeBytes)(folder);
        // Until 2026-11-24 the leftovers of a killed run counted as used: rerunning the same set into the same folder
        // (docs/synthesis.md: an interrupted synth is rerun) was refused although it frees that space first.
        foreach (var file in overwrittenFiles)
        {
            var info = new FileInfo(file);
            if (info.Exists)
            {
                free = free > long.MaxValue - info.Length ? long.MaxValue : free + info.Length;
            }
        }

        if (requiredBytes > free)
        {
            throw new IOException(string.Create(
                CultureInfo.InvariantCulture,
                $"{output}: {count} spectra need {Format(requiredBytes)} but only {Format(free)} are free on its disk; nothing was written"));
        }
    }

    /// <summary>Deletes <paramref name="path"/> if it exists; a failure is ignored (the caller is reporting another error).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The original error is the one to report; a leftover .partial file is harmless.
        }
    }

    private static long AvailableFreeBytes(string folder) => new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;

    private static string Format(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");
}

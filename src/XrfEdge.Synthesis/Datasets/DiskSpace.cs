using System.Globalization;

namespace XrfEdge.Synthesis.Datasets;

/// <summary>Free-space check and quiet clean-up shared by the dataset writers.</summary>
internal static class DiskSpace
{
    /// <summary>
    /// Throws an <see cref="IOException"/> naming <paramref name="output"/> when the file system holding
    /// <paramref name="folder"/> has less than <paramref name="requiredBytes"/> free for this user (statvfs <c>f_bavail</c>).
    /// </summary>
    /// <param name="folder">An existing folder on the disk to be written.</param>
    /// <param name="output">The set's file or folder, as the user named it (for the message).</param>
    /// <param name="requiredBytes">Bytes the set needs.</param>
    /// <param name="count">Spectra asked for (for the message).</param>
    public static void EnsureFree(string folder, string output, long requiredBytes, long count)
    {
        var free = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
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

    private static string Format(long bytes) => bytes >= 1L << 30
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");
}

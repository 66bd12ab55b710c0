using System.Globalization;

namespace XrfEdge.Service.Cli;

/// <summary>
/// Output files written through a hidden temporary file in the same folder and renamed into place, so that a failed or
/// interrupted write never leaves a half-written file under the name asked for (<c>acquire</c>, <c>outbox export</c>).
/// </summary>
internal static class AtomicFile
{
    /// <summary>A temporary file next to <paramref name="path"/> (same directory, so the final rename is atomic).</summary>
    public static string TemporaryPath(string path)
    {
        var full = Path.GetFullPath(path);
        return Path.Combine(
            Path.GetDirectoryName(full)!,
            string.Create(CultureInfo.InvariantCulture, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"));
    }

    /// <summary>Writes through a temporary file renamed into place: a failed write never leaves a half-written file at <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var temporary = TemporaryPath(path);
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Deletes a leftover temporary file; a failure is ignored, since the error that led here is the one to report.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover hidden .tmp file is harmless.
        }
    }
}

namespace XrfEdge.Devices.Native;

/// <summary>
/// A link whose receive queue can be dropped (<c>tcflush(TCIFLUSH)</c> on a tty): the DP5 session
/// flushes stale bytes before each request, as the guide's parsing recipe suggests (rev A7 §3.3).
/// </summary>
public interface IDiscardableInput
{
    /// <summary>Drops bytes received and not yet read.</summary>
    void DiscardInput();
}

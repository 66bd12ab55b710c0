namespace XrfEdge.Devices.Formats;

/// <summary>
/// Optional header content for <see cref="AmptekMcaWriter"/>. Values left null are taken from the spectrum's
/// metadata when a reader put them there (<c>mca.TAG</c>, <c>dp5.MCAC</c>, <c>status.Serial Number</c> …), so a file
/// read and written again keeps them.
/// </summary>
public sealed record AmptekMcaHeader
{
    /// <summary><c>TAG</c>: e.g. "live_data".</summary>
    public string? Tag { get; init; }

    /// <summary><c>DESCRIPTION</c>: free text on one line.</summary>
    public string? Description { get; init; }

    /// <summary><c>START_TIME</c>: acquisition start, written as MM/DD/YYYY HH:MM:SS in the instrument's clock.</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary><c>SERIAL_NUMBER</c>: the DP5's serial number from its status packet.</summary>
    public string? SerialNumber { get; init; }

    /// <summary>
    /// <c>&lt;&lt;DP5 CONFIGURATION&gt;&gt;</c> as (command, value) pairs in order, e.g. ("MCAC", "1024"), typically the
    /// text-configuration readback (PID 0x20/0x03).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Configuration { get; init; }

    /// <summary><c>&lt;&lt;DPP STATUS&gt;&gt;</c> as (key, value) pairs in order, e.g. ("Fast Count", "52894").</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Status { get; init; }
}

namespace XrfEdge.Service.Options;

/// <summary>A profile that cannot be used: every problem names the key, the value and the rule.</summary>
public sealed class ProfileException : Exception
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public ProfileException(IReadOnlyList<string> problems)
        : base("invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  " + p)))
    {
        Problems = problems;
    }

    /// <summary>
    /// Creates the exception for the problems of one profile: the message names the profile file and, after each problem
    /// whose value came from an environment variable or a <c>--set</c>, that input (<paramref name="origin"/>), so a
    /// value that is not in the file is not searched for there. <see cref="Problems"/> keeps the bare sentences.
    /// </summary>
    /// <param name="problems">One sentence per problem.</param>
    /// <param name="profilePath">The profile file as given to <c>--config</c>.</param>
    /// <param name="origin">The input a problem's value came from (<c>environment variable XRFEDGE_Mqtt__Port</c>), or null for the file or a default.</param>
    public ProfileException(IReadOnlyList<string> problems, string profilePath, Func<string, string?> origin)
        : base($"invalid configuration (profile {profilePath}):" + Environment.NewLine
            + string.Join(Environment.NewLine, (problems ?? []).Select(p => origin?.Invoke(p) is { } from ? $"  {p} ({from})" : "  " + p)))
    {
        Problems = problems ?? [];
    }

    /// <summary>Creates an exception with one problem.</summary>
    public ProfileException()
        : this(["invalid configuration"])
    {
    }

    /// <summary>Creates an exception with one problem.</summary>
    public ProfileException(string message)
        : this([message])
    {
    }

    /// <summary>Creates an exception with one problem and its cause.</summary>
    public ProfileException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>One sentence per problem, for example <c>Acquisition:PresetSeconds = -1: must be &gt; 0 and ≤ 86400</c>.</summary>
    public IReadOnlyList<string> Problems { get; }
}

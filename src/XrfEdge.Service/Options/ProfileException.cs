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

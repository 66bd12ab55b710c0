namespace XrfEdge.Messaging.Commands;

/// <summary>How a command ended.</summary>
/// <param name="Succeeded">True = <c>completed</c>, false = <c>failed</c>.</param>
/// <param name="Error">Sentence saying why it failed, or null.</param>
/// <param name="Result">Values returned to the requester (e.g. <c>measurement_id</c>), or null.</param>
public sealed record CommandResult(bool Succeeded, string? Error = null, IReadOnlyDictionary<string, string>? Result = null)
{
    /// <summary>A success with optional results.</summary>
    public static CommandResult Completed(IReadOnlyDictionary<string, string>? result = null) => new(true, null, result);

    /// <summary>A failure with its reason.</summary>
    public static CommandResult Failed(string error) => new(false, error);
}

namespace XrfEdge.Devices.Formats;

/// <summary>
/// Allocation-free split of one data line on commas, semicolons, tabs and spaces, skipping empty pieces: the count
/// loops of the EMSA and SPE readers run once per channel, so they avoid a string per token.
/// </summary>
internal ref struct TokenEnumerator(ReadOnlySpan<char> line)
{
    private ReadOnlySpan<char> _rest = line;

    /// <summary>The token found by the last <see cref="MoveNext"/>.</summary>
    public ReadOnlySpan<char> Current { get; private set; }

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly TokenEnumerator GetEnumerator() => this;

    /// <summary>Advances to the next non-empty token.</summary>
    public bool MoveNext()
    {
        var start = 0;
        while (start < _rest.Length && IsSeparator(_rest[start]))
        {
            start++;
        }

        if (start == _rest.Length)
        {
            _rest = default;
            return false;
        }

        var end = start;
        while (end < _rest.Length && !IsSeparator(_rest[end]))
        {
            end++;
        }

        Current = _rest[start..end];
        _rest = _rest[end..];
        return true;
    }

    private static bool IsSeparator(char c) => c is ',' or ';' or '\t' or ' ' or '\r';
}

namespace XrfEdge.Service.Cli;

/// <summary>
/// The reading loop of a verb that Ctrl-C/SIGTERM stops between spectra (<c>identify</c>, <c>eval</c>, <c>rebin</c>): it passes the
/// items on until the token is cancelled and remembers whether it cut the input short. "Interrupted" means that input
/// was left unread, not that a signal came: a signal after the last spectrum had been read (while the last batch was
/// identified) made <c>identify</c> say "the rest of the input was not read" and exit 130 with every result written,
/// and <c>eval</c> throw away the metrics of a file it had read to the end (until 2026-11-24).
/// </summary>
internal sealed class InterruptibleInput(CancellationToken cancellationToken)
{
    /// <summary>Whether reading stopped at the token with input left unread.</summary>
    public bool Interrupted { get; private set; }

    /// <summary>The items of <paramref name="items"/> until the token is cancelled (checked before each is passed on).</summary>
    public IEnumerable<T> Read<T>(IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return Iterate(items);
    }

    /// <summary>Whether to stop before the next input (a file of several): true, and <see cref="Interrupted"/>, once the token is cancelled.</summary>
    public bool StopBeforeNext()
    {
        Interrupted |= cancellationToken.IsCancellationRequested;
        return Interrupted;
    }

    private IEnumerable<T> Iterate<T>(IEnumerable<T> items)
    {
        using var reader = items.GetEnumerator();
        while (MoveNext(reader))
        {
            // The item read when the signal came is dropped with the rest: whole results of what was read before, nothing half.
            if (StopBeforeNext())
            {
                yield break;
            }

            yield return reader.Current;
        }
    }

    /// <summary>
    /// The next item, or false at the end of the input or when a read that waited for input (a quiet pipe, read through
    /// <see cref="CancellableStandardInput"/>) was cancelled by the token, which leaves the input unread.
    /// </summary>
    private bool MoveNext<T>(IEnumerator<T> reader)
    {
        try
        {
            return reader.MoveNext();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Interrupted = true;
            return false;
        }
    }
}

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>Polling for conditions that a background worker makes true (no fixed sleeps in assertions).</summary>
internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 25 ms for at most 10 s; returns its last value.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        for (int i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        return condition();
    }

    /// <summary>Polls <paramref name="condition"/> every 25 ms for at most <paramref name="within"/> (a wait on a reconnect back-off, which can pass 10 s under load); returns its last value.</summary>
    public static async Task<bool> UntilAsync(Func<bool> condition, TimeSpan within)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + within;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        return condition();
    }
}

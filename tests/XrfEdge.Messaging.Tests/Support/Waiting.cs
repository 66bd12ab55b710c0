namespace XrfEdge.Messaging.Tests.Support;

/// <summary>The wait the drainer and publish-limit tests share: polls a condition until a failure deadline.</summary>
internal static class Waiting
{
    /// <summary>
    /// Polls <paramref name="condition"/> every 20 ms until it holds; throws naming <paramref name="what"/> once
    /// <paramref name="timeoutSeconds"/> have passed. A failure deadline, not a timing assertion.
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string what, double timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what}: not reached within {timeoutSeconds} s");
            }

            await Task.Delay(20);
        }
    }
}

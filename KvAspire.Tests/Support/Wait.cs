namespace KvAspire.Tests.Support;

/// <summary>Waits on a condition with a timeout, the one way tests wait for something to happen.</summary>
public static class Wait
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> after the timeout.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>
    /// Polls <paramref name="condition"/> (a status request, say) until it holds, every
    /// <paramref name="pollInterval"/> (10 ms unless given); fails naming <paramref name="what"/> after the timeout.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, TimeSpan? pollInterval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {timeout} for {what}");
            await Task.Delay(pollInterval ?? PollInterval);
        }
    }
}

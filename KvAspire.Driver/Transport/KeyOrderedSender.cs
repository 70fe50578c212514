using KvAspire.Operations;

namespace KvAspire.Driver.Transport;

/// <summary>
/// Sends requests without making the caller wait, yet in order per key: a request is sent only once every
/// request given earlier for the same key has its answer, so requests on one key take effect in the order
/// given; requests on other keys go at once. (Sent together, requests race: the leader applies them in the
/// order they reach it, not the order they were made.) A request whose answer was a timeout may still
/// take effect after the next one on its key: the client could not tell either way.
/// </summary>
internal sealed class KeyOrderedSender(KvConnection connection)
{
    private readonly Dictionary<string, Task<Reply>> _lastOfKey = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<Reply> SendAsync(KvOperation request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var previous = _lastOfKey.GetValueOrDefault(request.Key);
            var sent = previous is null
                ? connection.ExecuteAsync(request, cancellationToken)
                : AfterAsync(previous, request, cancellationToken);
            _lastOfKey[request.Key] = sent;
            _ = ForgetWhenAnsweredAsync(request.Key, sent);
            return sent;
        }
    }

    private async Task<Reply> AfterAsync(Task<Reply> previous, KvOperation request, CancellationToken cancellationToken)
    {
        await ((Task)previous).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return await connection.ExecuteAsync(request, cancellationToken);
    }

    /// <summary>Keys without a request in flight hold nothing.</summary>
    private async Task ForgetWhenAnsweredAsync(string key, Task<Reply> sent)
    {
        await ((Task)sent).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_lock)
        {
            if (_lastOfKey.TryGetValue(key, out var last) && last == sent)
                _lastOfKey.Remove(key);
        }
    }
}

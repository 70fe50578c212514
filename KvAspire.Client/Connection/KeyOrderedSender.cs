using KvAspire.Client.Commands;

namespace KvAspire.Client.Connection;

/// <summary>
/// Sends commands without making the caller wait, yet in order per key: a command is sent only once every
/// command given earlier for the same key has its answer, so commands on one key take effect in the order
/// given; commands on other keys go at once. (Sent together, requests race: the leader applies them in the
/// order they reach it, not the order they were made.) A command whose answer was a timeout may still
/// take effect after the next one on its key: the client could not tell either way.
/// </summary>
public sealed class KeyOrderedSender(KvConnection connection)
{
    private readonly Dictionary<string, Task<Reply>> _lastOfKey = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<Reply> SendAsync(ConsoleCommand command, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var previous = _lastOfKey.GetValueOrDefault(command.Key);
            var sent = previous is null
                ? connection.ExecuteAsync(command, cancellationToken)
                : AfterAsync(previous, command, cancellationToken);
            _lastOfKey[command.Key] = sent;
            _ = ForgetWhenAnsweredAsync(command.Key, sent);
            return sent;
        }
    }

    private async Task<Reply> AfterAsync(Task<Reply> previous, ConsoleCommand command, CancellationToken cancellationToken)
    {
        await ((Task)previous).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return await connection.ExecuteAsync(command, cancellationToken);
    }

    /// <summary>Keys without a command in flight hold nothing.</summary>
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

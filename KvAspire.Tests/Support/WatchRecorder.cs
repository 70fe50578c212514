using System.Collections.Concurrent;
using KvAspire.Driver;

namespace KvAspire.Tests.Support;

/// <summary>
/// A watch of every key under a prefix through the client library, from now, on a client given every node
/// (the first it calls is the first given), recording every event it yields while the nemesis strikes.
/// </summary>
public sealed class WatchRecorder : IAsyncDisposable
{
    private readonly KvClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;
    private readonly ConcurrentDictionary<int, long> _started = new();
    private readonly ConcurrentDictionary<int, long> _reached = new();

    private WatchRecorder(IReadOnlyList<string> addresses, string prefix)
    {
        _client = new KvClient(new KvClientOptions { Nodes = [.. addresses], WatchRetryWindow = TimeSpan.FromSeconds(90) });
        _watching = Task.Run(async () =>
        {
            await foreach (var change in _client.WatchAsync(prefix, new KvWatchOptions { Prefix = true, ProgressNotices = true }, _stop.Token))
            {
                _started.TryAdd(change.Position, change.Revision);
                _reached[change.Position] = change.Revision;
                if (change.Kind != KvEventKind.Progress)
                    Events.Enqueue(change);
            }
        });
    }

    /// <summary>The events, in the order yielded.</summary>
    public ConcurrentQueue<KvEvent> Events { get; } = new();

    /// <summary>Per position, the revision its watch started after.</summary>
    public IReadOnlyDictionary<int, long> Started => _started;

    /// <summary>Watching from now; returns once every one of <paramref name="positions"/> has said where it starts.</summary>
    public static async Task<WatchRecorder> StartAsync(IReadOnlyList<string> addresses, string prefix, int positions)
    {
        var recorder = new WatchRecorder(addresses, prefix);
        await Wait.UntilAsync(() => recorder._started.Count == positions || recorder._watching.IsCompleted, TimeSpan.FromSeconds(60),
            "every position's watch to start");
        if (recorder._watching.IsFaulted)
            await recorder._watching;
        return recorder;
    }

    /// <summary>Waits until the watch has every event of each position up to <paramref name="revisions"/>, then stops it.</summary>
    /// <exception cref="Exception">The watch failed (its own exception), or did not get there in time.</exception>
    public async Task StopAtAsync(IReadOnlyDictionary<int, long> revisions, TimeSpan timeout)
    {
        await Wait.UntilAsync(() => revisions.All(p => _reached.GetValueOrDefault(p.Key) >= p.Value) || _watching.IsCompleted, timeout,
            $"the watch to reach {string.Join(", ", revisions.Select(p => $"position {p.Key} revision {p.Value}"))}; it is at " +
            string.Join(", ", _reached.Select(p => $"{p.Key}: {p.Value}")));
        if (_watching.IsCompleted)
            await _watching;
        await _stop.CancelAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _watching;
        }
        catch (Exception)
        {
            // Stopped (or failed: StopAtAsync has said so).
        }
        _client.Dispose();
        _stop.Dispose();
    }
}

using System.Collections.Concurrent;
using KvAspire.Driver;

namespace KvAspire.Tests.Support;

/// <summary>
/// A watch of every key under a prefix (or of one key) through the client library, from now, on a client given every node
/// (the first it calls is the first given), recording every event it yields while the nemesis strikes; and
/// asking it for progress again and again (the next request once every position answered the last),
/// recording each answer with the events of its position yielded before it.
/// </summary>
public sealed class WatchRecorder : IAsyncDisposable
{
    private readonly KvClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;
    private readonly ConcurrentDictionary<int, long> _started = new();
    private readonly ConcurrentDictionary<int, long> _reached = new();
    private readonly KvWatchProgress _progress = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<int, int> _eventsOf = [];
    private readonly Dictionary<long, long> _requests = [];
    private readonly List<ProgressAnswer> _answers = [];
    private readonly Func<long> _clock;
    private Task _asking = Task.CompletedTask;

    private WatchRecorder(IReadOnlyList<string> addresses, string? authority, string watched, bool prefix, Func<long> clock)
    {
        _clock = clock;
        _client = new KvClient(new KvClientOptions { Nodes = [.. addresses], Authority = authority, WatchRetryWindow = TimeSpan.FromSeconds(90) });
        var options = new KvWatchOptions { Prefix = prefix, ProgressNotices = true, ProgressRequests = _progress };
        _watching = Task.Run(async () =>
        {
            await foreach (var change in _client.WatchAsync(watched, options, _stop.Token))
            {
                _started.TryAdd(change.Position, change.Revision);
                _reached[change.Position] = change.Revision;
                lock (_gate)
                {
                    if (change.AnsweredRequest is { } request)
                        _answers.Add(new ProgressAnswer(change.Position, change.Revision, request, _eventsOf.GetValueOrDefault(change.Position)));
                    else if (change.Kind != KvEventKind.Progress)
                    {
                        _eventsOf[change.Position] = _eventsOf.GetValueOrDefault(change.Position) + 1;
                        Events.Enqueue(change);
                    }
                }
            }
        });
    }

    /// <summary>A position's answer to progress request <see cref="Request"/>, after <see cref="EventsBefore"/> events of it.</summary>
    public sealed record ProgressAnswer(int Position, long Revision, long Request, int EventsBefore);

    /// <summary>Every answer to a progress request so far, in the order received.</summary>
    public IReadOnlyList<ProgressAnswer> Answers
    {
        get { lock (_gate) return [.. _answers]; }
    }

    /// <summary>Each progress request's number, with the time just before it was made, on the clock given.</summary>
    public IReadOnlyDictionary<long, long> Requests
    {
        get { lock (_gate) return new Dictionary<long, long>(_requests); }
    }

    /// <summary>The events, in the order yielded.</summary>
    public ConcurrentQueue<KvEvent> Events { get; } = new();

    /// <summary>Per position, the revision its watch started after.</summary>
    public IReadOnlyDictionary<int, long> Started => _started;

    /// <summary>Watching from now; returns once every one of <paramref name="positions"/> has said where it starts.</summary>
    /// <param name="authority">The cluster's CA, when it has TLS.</param>
    /// <param name="watched">The prefix watched, or the key when not <paramref name="prefix"/>.</param>
    /// <param name="positions">The positions the watch starts on; it may follow its keys to others, which answer progress too.</param>
    /// <param name="clock">The clock of the history the answers are held against.</param>
    public static async Task<WatchRecorder> StartAsync(IReadOnlyList<string> addresses, string? authority, string watched, int positions, Func<long> clock,
        bool prefix = true)
    {
        var recorder = new WatchRecorder(addresses, authority, watched, prefix, clock);
        await Wait.UntilAsync(() => recorder._started.Count == positions || recorder._watching.IsCompleted, TimeSpan.FromSeconds(60),
            "every position's watch to start");
        if (recorder._watching.IsFaulted)
            await recorder._watching;
        recorder._asking = recorder.AskForProgressAsync(positions);
        return recorder;
    }

    private async Task AskForProgressAsync(int positions)
    {
        try
        {
            while (!_stop.IsCancellationRequested && !_watching.IsCompleted)
            {
                var made = _clock();
                var request = await _progress.RequestAsync();
                lock (_gate)
                    _requests[request] = made;
                await Wait.UntilAsync(() => Answered(request) >= positions || _stop.IsCancellationRequested || _watching.IsCompleted,
                    TimeSpan.FromSeconds(120), $"every position to answer progress request {request}");
                await Task.Delay(TimeSpan.FromMilliseconds(500), _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private int Answered(long request)
    {
        lock (_gate)
            return _answers.Where(a => a.Request == request).Select(a => a.Position).Distinct().Count();
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
        await _asking;
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

using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using KvAspire.Node.Errors;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.V1;
using WatchHandover = KvAspire.Operations.WatchHandover;

namespace KvAspire.Node.Api;

/// <summary>
/// One watch a client opened on this node: a feed per watched position (<see cref="PositionEvents"/>) into
/// one small channel to the client, so a watcher that reads slowly holds its positions back (their events
/// wait in the histories, not here); and the client's progress requests, each answered per position once
/// the feed has sent everything up to that position's revision at a linearizable point. A node that stops
/// ends its watches (they would hold its shutdown up): their clients go on elsewhere.
/// </summary>
public sealed class WatchSession(PositionEvents events, Func<int, CancellationToken, Task<long>> readRevision, IHostApplicationLifetime lifetime)
{
    /// <exception cref="RpcException">The watch's request is malformed, a position's events cannot be served, or the node is stopping.</exception>
    /// <param name="progressNotify">Pass on each position's notices when idle (its first, where it starts, always goes).</param>
    /// <param name="positions">The positions the ring, as this node routes, gives the watch.</param>
    /// <param name="start">Per position, the revision the watcher has every event up to: a watch going on from another node.</param>
    public async Task RunAsync(WatchQuery query, bool progressNotify, int[] positions, IReadOnlyDictionary<int, long> start,
        IAsyncStreamReader<WatchRequest> requests, IServerStreamWriter<WatchReply> responses, CancellationToken cancellationToken)
    {
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(watching.Token);
        var replies = Channel.CreateBounded<WatchBatch>(new BoundedChannelOptions(positions.Length) { SingleReader = true });
        var feeds = new ConcurrentDictionary<int, Feed>();
        var running = new List<Task>();
        foreach (var (position, after) in start)
            Follow(position, new WatchStart(after));
        if (start.Count == 0)
        {
            foreach (var position in positions)
                Follow(position, new WatchStart(null));
        }
        else
        {
            lock (running)
                running.Add(Guarded(StartTheOthersAsync));
        }
        var listening = ListenAsync();
        try
        {
            await foreach (var batch in replies.Reader.ReadAllAsync(watching.Token))
                await responses.WriteAsync(WatchMessages.ToReply(batch), watching.Token);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            throw StatusMapping.Stopping();
        }
        finally
        {
            await stop.CancelAsync();
            Task[] all;
            lock (running)
                all = [.. running];
            await Task.WhenAll(all);
            await listening;
        }

        // Starts the position's feed unless it runs already: the feed of a position the watched keys went to.
        Feed Follow(int position, WatchStart from)
        {
            var feed = new Feed(position);
            if (!feeds.TryAdd(position, feed))
                return feeds[position];
            lock (running)
                running.Add(FeedAsync(feed, from));
            return feed;
        }

        async Task FeedAsync(Feed feed, WatchStart from)
        {
            await Guarded(async () =>
            {
                var first = true;
                await foreach (var batch in events.WatchAsync(feed.Position, query, from, stop.Token))
                {
                    if (batch.Handover is { } handover)
                        await FollowAsync(feed, handover);
                    if (batch.Events.Count > 0 || first || progressNotify || batch.Handover is not null)
                        await replies.Writer.WriteAsync(batch, stop.Token);
                    if (first)
                        feed.Started();
                    first = false;
                    if (feed.Reached(batch.Revision, batch.Handover) is { } answer)
                        await replies.Writer.WriteAsync(answer, stop.Token);
                }
            });
        }

        // A watch going on from another node: the positions it names first. A position the ring now gives it and
        // it does not name may have taken its keys while it was away, and is followed from that handover once a
        // named position's feed meets it; so the others start (from now) only once every named feed has caught
        // up with its position as it is now.
        async Task StartTheOthersAsync()
        {
            foreach (var position in start.Keys)
                await feeds[position].SentAsync(await readRevision(position, stop.Token), stop.Token);
            foreach (var position in positions)
                Follow(position, new WatchStart(null));
        }

        // Keys leaving a position: the taker's feed starts (if it has not) and has said where it starts before
        // the giver's goes past the handover, so a watcher that goes on elsewhere names the taker too. Keys
        // arriving: the taker's events wait until the giver's feed (if the watch has one) has sent all of its
        // events of them, so the events of a key come in its order across the move.
        async Task FollowAsync(Feed feed, WatchHandover handover)
        {
            if (handover.Leaves(feed.Position))
                await Follow(handover.Taker, WatchStart.Arrival(handover.Epoch)).StartedAsync(stop.Token);
            else if (handover.Arrives(feed.Position) && feeds.TryGetValue(handover.Giver, out var giver))
                await giver.PassedAsync(handover, stop.Token);
        }

        // Progress requests, each answered on its own; the client may also close its side, and the watch goes on.
        async Task ListenAsync()
        {
            await Guarded(async () =>
            {
                while (await requests.MoveNext(stop.Token))
                {
                    if (requests.Current.Progress is { } progress)
                        _ = Guarded(() => Task.WhenAll(feeds.Values.Select(feed => AnswerProgressAsync(feed, progress.Id))));
                }
            });
        }

        async Task AnswerProgressAsync(Feed feed, long request)
        {
            var revision = await readRevision(feed.Position, stop.Token);
            if (feed.Await(revision, request) is { } answer)
                await replies.Writer.WriteAsync(answer, stop.Token);
        }

        // Ends the watch with what failed; nothing when the watch is ending anyway.
        async Task Guarded(Func<Task> work)
        {
            try
            {
                await work();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                replies.Writer.TryComplete(e);
            }
        }
    }

    /// <summary>
    /// One position's feed: the revision it has sent everything up to, the newest epoch it has sent keys away
    /// at, and the progress requests waiting for a revision (one answer serves every request it is past).
    /// </summary>
    private sealed class Feed(int position)
    {
        private readonly Lock _gate = new();
        private readonly List<(long Request, long Revision)> _waiting = [];
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _progressed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _sent = -1;
        private long _leftAt;

        public int Position { get; } = position;

        /// <summary>Its first notice, where it starts, is sent.</summary>
        public void Started() => _started.TrySetResult();

        public Task StartedAsync(CancellationToken cancellationToken) => _started.Task.WaitAsync(cancellationToken);

        /// <summary>Completes once this giver's feed has sent every event of the keys <paramref name="handover"/> brought elsewhere.</summary>
        public Task PassedAsync(WatchHandover handover, CancellationToken cancellationToken) =>
            UntilAsync(() => _leftAt >= handover.Epoch || _sent >= handover.GiverRevision, cancellationToken);

        /// <summary>Completes once the feed has sent everything up to <paramref name="revision"/>.</summary>
        public Task SentAsync(long revision, CancellationToken cancellationToken) => UntilAsync(() => _sent >= revision, cancellationToken);

        private async Task UntilAsync(Func<bool> reached, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task progressed;
                lock (_gate)
                {
                    if (reached())
                        return;
                    progressed = _progressed.Task;
                }
                await progressed.WaitAsync(cancellationToken);
            }
        }

        /// <summary>Everything up to <paramref name="revision"/> is sent: the answer to the latest request waiting for it, if any.</summary>
        public WatchBatch? Reached(long revision, WatchHandover? handover = null)
        {
            TaskCompletionSource progressed;
            WatchBatch? answer;
            lock (_gate)
            {
                _sent = revision;
                if (handover is not null && handover.Leaves(Position))
                    _leftAt = Math.Max(_leftAt, handover.Epoch);
                (progressed, _progressed) = (_progressed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                answer = Answered(revision);
            }
            progressed.TrySetResult();
            return answer;
        }

        private WatchBatch? Answered(long revision)
        {
            if (_waiting.Count == 0)
                return null;
            var answered = _waiting.Where(w => w.Revision <= revision).Select(w => (long?)w.Request).Max();
            _waiting.RemoveAll(w => w.Revision <= revision);
            return answered is { } request ? Answer(revision, request) : null;
        }

        /// <summary>Request <paramref name="request"/> waits for <paramref name="revision"/>: its answer now if the feed is there, else once it is.</summary>
        public WatchBatch? Await(long revision, long request)
        {
            lock (_gate)
            {
                if (_sent >= revision)
                    return Answer(_sent, request);
                _waiting.Add((request, revision));
                return null;
            }
        }

        private WatchBatch Answer(long revision, long request) => new(Position, revision, [], request);
    }
}

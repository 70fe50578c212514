using System.Threading.Channels;
using Grpc.Core;
using KvAspire.Node.Errors;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.V1;

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
    public async Task RunAsync(WatchQuery query, bool progressNotify, int[] positions, IReadOnlyDictionary<int, long> start,
        IAsyncStreamReader<WatchRequest> requests, IServerStreamWriter<WatchReply> responses, CancellationToken cancellationToken)
    {
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(watching.Token);
        var replies = Channel.CreateBounded<WatchBatch>(new BoundedChannelOptions(positions.Length) { SingleReader = true });
        var feeds = positions.Select(position => new Feed(position)).ToArray();
        var running = feeds.Select(feed => FeedAsync(feed, start.TryGetValue(feed.Position, out var after) ? after : null)).ToList();
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
            await Task.WhenAll(running);
            await listening;
        }

        async Task FeedAsync(Feed feed, long? after)
        {
            await Guarded(async () =>
            {
                var first = true;
                await foreach (var batch in events.WatchAsync(feed.Position, query, after, stop.Token))
                {
                    if (batch.Events.Count > 0 || first || progressNotify)
                        await replies.Writer.WriteAsync(batch, stop.Token);
                    first = false;
                    if (feed.Reached(batch.Revision) is { } answer)
                        await replies.Writer.WriteAsync(answer, stop.Token);
                }
            });
        }

        // Progress requests, each answered on its own; the client may also close its side, and the watch goes on.
        async Task ListenAsync()
        {
            await Guarded(async () =>
            {
                while (await requests.MoveNext(stop.Token))
                {
                    if (requests.Current.Progress is { } progress)
                        _ = Guarded(() => Task.WhenAll(feeds.Select(feed => AnswerProgressAsync(feed, progress.Id))));
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
    /// One position's feed: the revision it has sent everything up to, and the progress requests waiting for a
    /// revision (one answer serves every request it is past).
    /// </summary>
    private sealed class Feed(int position)
    {
        private readonly Lock _gate = new();
        private readonly List<(long Request, long Revision)> _waiting = [];
        private long _sent = -1;

        public int Position { get; } = position;

        /// <summary>Everything up to <paramref name="revision"/> is sent: the answer to the latest request waiting for it, if any.</summary>
        public WatchBatch? Reached(long revision)
        {
            lock (_gate)
            {
                _sent = revision;
                if (_waiting.Count == 0)
                    return null;
                var answered = _waiting.Where(w => w.Revision <= revision).Select(w => (long?)w.Request).Max();
                _waiting.RemoveAll(w => w.Revision <= revision);
                return answered is { } request ? Answer(revision, request) : null;
            }
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

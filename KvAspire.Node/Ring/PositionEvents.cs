using System.Runtime.CompilerServices;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Storage;
using KvAspire.Operations;

namespace KvAspire.Node.Ring;

/// <summary>
/// A watcher's events of one position: from this node's own history when it is a replica of the position,
/// else relayed from one of the position's replicas. When a source fails (a replica down or cut off, or no
/// longer keeping the events wanted) the next goes on from the last revision sent, so nothing is missed and
/// nothing sent twice. A replica without a leader serves no events: cut off, it would send progress
/// notices forever while the others move on.
/// </summary>
public sealed class PositionEvents(LocalRing ring, NodeInfo self, EventHistory history, IRaftCluster raft, PeerClients peers, PeerReachability reachability,
    NodeOptions options, TimeProvider clock)
{
    /// <summary>
    /// The events of <paramref name="position"/> after revision <paramref name="after"/> (after now when null),
    /// starting with a notice of the revision it starts after; until cancelled.
    /// </summary>
    /// <exception cref="RequestFailedException">Every source failed in turn (the last failure, naming the others).</exception>
    public async IAsyncEnumerable<WatchBatch> WatchAsync(int position, WatchQuery query, long? after,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sources = SourcesOf(position);
        var cursor = after;
        var started = false;
        var failures = new List<RequestFailedException>();
        long? failingSince = null;
        var backoff = options.FirstRetryBackoff;
        for (var attempt = 0; ; attempt++)
        {
            var source = sources[attempt % sources.Count];
            if (attempt % sources.Count == 0)
                failures.Clear();
            await using var events = Events(source, position, query, cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                RequestFailedException? failure = null;
                try
                {
                    if (!await events.MoveNextAsync())
                        break;
                }
                catch (RequestFailedException e) when (e.Kind is FailureKind.Unavailable or FailureKind.DeadlineExceeded or FailureKind.Compacted
                                                       && !cancellationToken.IsCancellationRequested)
                {
                    if (e is PeerUnreachableException unreachable)
                        reachability.Unreachable(unreachable);
                    failure = e;
                }
                if (failure is not null)
                {
                    failures.Add(failure);
                    failingSince ??= clock.GetTimestamp();
                    if (failures.Count == sources.Count)
                    {
                        // Every source failed in turn: no use going round again when none keeps the events, nor after the request timeout.
                        if (failures.All(f => f is EventsCompactedException))
                            throw failures.MaxBy(f => ((EventsCompactedException)f).Floor)!;
                        if (clock.GetElapsedTime(failingSince.Value) >= options.RequestTimeout)
                            throw new RequestFailedException(FailureKind.Unavailable,
                                $"no replica of position {position} serves its events: {string.Join("; ", failures.Select(f => f.Message))}", failure);
                    }
                    break;
                }
                var batch = events.Current;
                // A source's first notice says where it starts: the watcher knows already when it is not the first.
                if (started && batch.Events.Count == 0 && batch.Revision <= cursor)
                    continue;
                started = true;
                cursor = batch.Revision;
                failingSince = null;
                backoff = options.FirstRetryBackoff;
                yield return batch;
            }
            if (attempt % sources.Count == sources.Count - 1)
            {
                await Task.Delay(backoff, clock, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxRetryBackoff.Ticks));
            }
        }
    }

    /// <summary>This node's own history when it serves the position, first, then the position's other replicas that are reachable.</summary>
    private List<NodeInfo?> SourcesOf(int position)
    {
        var replicas = ring.NodesByPosition[position];
        List<NodeInfo?> sources = position == ring.Position ? [null] : [];
        sources.AddRange(replicas.Where(node => node.Name != self.Name && reachability.IsReachable(node)));
        if (sources.Count == 0)
            sources.AddRange(replicas);
        return sources;
    }

    private IAsyncEnumerable<WatchBatch> Events(NodeInfo? source, int position, WatchQuery query, long? after, CancellationToken cancellationToken) =>
        source is null
            ? LocalAsync(query, after, cancellationToken)
            : peers.WatchPositionAsync(source, WatchMessages.ToPositionRequest(position, query, after), cancellationToken);

    /// <summary>This replica's own events of its position, while it has a leader.</summary>
    /// <exception cref="RequestFailedException">UNAVAILABLE: the replica has no leader (cut off, or an election is under way).</exception>
    public async IAsyncEnumerable<WatchBatch> LocalAsync(WatchQuery query, long? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in history.WatchAsync(ring.Position, query, after, options.WatchProgressInterval, clock, cancellationToken))
        {
            if (raft.Leader is null)
                throw RequestFailedException.Unavailable($"position {ring.Position} has no leader here: its events may be behind");
            yield return batch;
        }
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;

namespace KvAspire.Node.Ring;

/// <summary>
/// A watcher's events of one position: from this node's own history when it is a replica of the position,
/// else relayed from one of the position's replicas. When a source fails (a replica down or cut off, or no
/// longer keeping the events wanted) the next goes on from the last revision sent, so nothing is missed and
/// nothing sent twice. A replica without a leader serves no events: cut off, it would send progress
/// notices forever while the others move on.
/// </summary>
public sealed class PositionEvents
{
    private readonly LocalRing _ring;
    private readonly NodeInfo _self;
    private readonly EventHistory _history;
    private readonly IRaftCluster _raft;
    private readonly PeerClients _peers;
    private readonly PeerReachability _reachability;
    private readonly NodeOptions _options;
    private readonly TimeProvider _clock;
    private readonly UpDownCounter<long> _feeds;
    private readonly Counter<long> _events;
    private readonly Counter<long> _sourceChanges;

    public PositionEvents(LocalRing ring, NodeInfo self, EventHistory history, IRaftCluster raft, PeerClients peers, PeerReachability reachability,
        NodeOptions options, NodeTelemetry telemetry, TimeProvider clock)
    {
        (_ring, _self, _history, _raft, _peers, _reachability, _options, _clock) = (ring, self, history, raft, peers, reachability, options, clock);
        _feeds = telemetry.Meter.CreateUpDownCounter<long>("kvaspire.watch.feeds", "{feed}",
            "Positions' event streams serving watches on this node now, by source (this node's history, or relayed from a replica)");
        _events = telemetry.Meter.CreateCounter<long>("kvaspire.watch.events", "{event}", "Events this node passed to watches, by source");
        _sourceChanges = telemetry.Meter.CreateCounter<long>("kvaspire.watch.source_changes", "{change}",
            "Times a position's event stream went on at another source after one failed");
        telemetry.Meter.CreateObservableGauge("kvaspire.watch.history.size", () => history.Bytes, "By",
            "What the events this replica keeps for watches count for against WatchHistoryMiB");
    }

    /// <summary>
    /// The events of <paramref name="position"/> from <paramref name="start"/>, starting with a notice of the
    /// revision it starts after; until cancelled.
    /// </summary>
    /// <exception cref="RequestFailedException">Every source failed in turn (the last failure, naming the others).</exception>
    public async IAsyncEnumerable<WatchBatch> WatchAsync(int position, WatchQuery query, WatchStart start,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sources = SourcesOf(position);
        long? cursor = null;
        var started = false;
        var failures = new List<RequestFailedException>();
        long? failingSince = null;
        var backoff = _options.FirstRetryBackoff;
        for (var attempt = 0; ; attempt++)
        {
            var source = sources[attempt % sources.Count];
            if (attempt % sources.Count == 0)
                failures.Clear();
            await using var events = Events(source, position, query, cursor is { } sent ? new WatchStart(sent) : start, cancellationToken)
                .GetAsyncEnumerator(cancellationToken);
            var tags = new TagList { { "source", source is null ? "local" : "relay" } };
            _feeds.Add(1, tags);
            try
            {
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
                            _reachability.Unreachable(unreachable);
                        failure = e;
                    }
                    if (failure is not null)
                    {
                        failures.Add(failure);
                        _sourceChanges.Add(1, tags);
                        failingSince ??= _clock.GetTimestamp();
                        if (failures.Count == sources.Count)
                        {
                            // Every source failed in turn: no use going round again when none keeps the events, nor after the request timeout.
                            if (failures.All(f => f is EventsCompactedException))
                                throw failures.MaxBy(f => ((EventsCompactedException)f).Floor)!;
                            if (_clock.GetElapsedTime(failingSince.Value) >= _options.RequestTimeout)
                                throw new RequestFailedException(FailureKind.Unavailable,
                                    $"no replica of position {position} serves its events: {string.Join("; ", failures.Select(f => f.Message))}", failure);
                        }
                        break;
                    }
                    var batch = events.Current;
                    // A source's first notice says where it starts: the watcher knows already when it is not the first.
                    if (started && batch.Events.Count == 0 && batch.Handover is null && batch.Revision <= cursor)
                        continue;
                    started = true;
                    cursor = batch.Revision;
                    failingSince = null;
                    backoff = _options.FirstRetryBackoff;
                    _events.Add(batch.Events.Count, tags);
                    yield return batch;
                }
            }
            finally
            {
                _feeds.Add(-1, tags);
            }
            if (attempt % sources.Count == sources.Count - 1)
            {
                await Task.Delay(backoff, _clock, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxRetryBackoff.Ticks));
            }
        }
    }

    /// <summary>This node's own history when it serves the position, first, then the position's other replicas that are reachable.</summary>
    private List<NodeInfo?> SourcesOf(int position)
    {
        var replicas = _ring.NodesOf(position);
        List<NodeInfo?> sources = position == _ring.Position ? [null] : [];
        sources.AddRange(replicas.Where(node => node.Name != _self.Name && _reachability.IsReachable(node)));
        if (sources.Count == 0)
            sources.AddRange(replicas);
        return sources;
    }

    private IAsyncEnumerable<WatchBatch> Events(NodeInfo? source, int position, WatchQuery query, WatchStart start, CancellationToken cancellationToken) =>
        source is null
            ? LocalAsync(query, start, cancellationToken)
            : _peers.WatchPositionAsync(source, WatchMessages.ToPositionRequest(position, query, start), cancellationToken);

    /// <summary>This replica's own events of its position, while it has a leader.</summary>
    /// <exception cref="RequestFailedException">UNAVAILABLE: the replica has no leader (cut off, or an election is under way).</exception>
    public async IAsyncEnumerable<WatchBatch> LocalAsync(WatchQuery query, WatchStart start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in _history.WatchAsync(_ring.Position, query, start, _options.WatchProgressInterval, _clock, cancellationToken))
        {
            if (_raft.Leader is null)
                throw RequestFailedException.Unavailable($"position {_ring.Position} has no leader here: its events may be behind");
            yield return batch;
        }
    }
}

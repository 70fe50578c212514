using System.Collections.Concurrent;
using System.Diagnostics;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;

namespace KvAspire.Node.Ring;

/// <summary>
/// Owns a request for another position's key, from its handler to the answer of the next node on the
/// way (F4, the forwards under way; each holds its F1 slot): it goes to the finger that leaves the
/// shortest way to the owner. Of that position's replicas it tries the one that answered last, then the
/// others it could reach a moment ago. The answer (or the failure, naming the position that did not
/// answer) goes back to the handler, so the server the client contacted is the one that answers it.
/// </summary>
public sealed class Forwarder
{
    private readonly LocalRing _ring;
    private readonly PeerClients _peers;
    private readonly PeerReachability _reachability;
    private readonly NodeOptions _options;
    private readonly TimeProvider _clock;
    // Per position: the replica that answered the last forward there.
    private readonly ConcurrentDictionary<int, int> _preferred = new();
    private long _inFlight;

    public Forwarder(LocalRing ring, PeerClients peers, PeerReachability reachability, NodeOptions options, NodeTelemetry telemetry, TimeProvider clock)
    {
        (_ring, _peers, _reachability, _options, _clock) = (ring, peers, reachability, options, clock);
        telemetry.ObserveQueueDepth("F4", () => InFlight);
    }

    /// <summary>Forwards under way (F4).</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Forwards <paramref name="request"/>, routed with <paramref name="view"/>, toward its owner.</summary>
    /// <exception cref="StaleRouteException">The next node has a newer layout than <paramref name="view"/>'s.</exception>
    /// <exception cref="RequestFailedException">The next position did not answer, or answered with a failure.</exception>
    public async Task<Answer> ForwardAsync(PendingRequest request, RingView view, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            return await ForwardToNextAsync(request, view, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private Task<Answer> ForwardToNextAsync(PendingRequest request, RingView view, CancellationToken cancellationToken)
    {
        var next = view.Fingers.NextHop(request.Route.Owner);
        if (request.HopsSoFar >= view.Ids.Positions)
            throw new RequestFailedException(FailureKind.Internal, $"routing loop: {request.HopsSoFar} hops for a ring of {view.Ids.Positions} positions");
        return CallPositionAsync(next, async (node, deadline) =>
        {
            using var activity = NodeTelemetry.StartForward(request.Operation.Kind, request.TraceContext, request.Route.KeyId,
                request.Route.Owner, request.HopsSoFar + 1, next, node.Name);
            try
            {
                return await _peers.SendAsync(node, request.Operation, request.HopsSoFar, view.Layout.Epoch, deadline, cancellationToken);
            }
            catch (RequestFailedException e)
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                throw;
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Makes <paramref name="call"/> to a replica of <paramref name="position"/>, within the request timeout.
    /// It starts with the replica that answered last time (the leader, or one that reaches it) and moves to
    /// the next when one cannot be reached or is unavailable: any replica serves (a follower hands writes to
    /// its leader). Replicas that could not be reached a moment ago are passed over: when that is all of
    /// them the position is cut off, and the caller hears so at once.
    /// </summary>
    /// <exception cref="RequestFailedException">No replica of the position answered, or one answered a failure.</exception>
    public Task<T> CallPositionAsync<T>(int position, Func<NodeInfo, DateTime, Task<T>> call, CancellationToken cancellationToken) =>
        CallReplicasAsync(position, _ring.NodesOf(position), call, cancellationToken);

    /// <summary><see cref="CallPositionAsync"/> with the position's replicas given: a move's, whose position may not be in the layout yet.</summary>
    /// <exception cref="RequestFailedException">No replica of the position answered, or one answered a failure.</exception>
    public async Task<T> CallReplicasAsync<T>(int position, IReadOnlyList<NodeInfo> replicas, Func<NodeInfo, DateTime, Task<T>> call,
        CancellationToken cancellationToken)
    {
        var first = _preferred.GetValueOrDefault(position) % replicas.Count;
        var candidates = Enumerable.Range(0, replicas.Count).Select(i => (first + i) % replicas.Count)
            .Where(i => _reachability.IsReachable(replicas[i])).ToList();
        if (candidates.Count == 0)
        {
            throw RequestFailedException.Unavailable(
                $"position {position} is unreachable: none of its replicas ({string.Join(", ", replicas.Select(r => $"{r.Name} at {r.GrpcUri}"))}) " +
                "can be connected to from here");
        }

        // A call may take the request timeout, all later hops included, before the caller hears DEADLINE_EXCEEDED.
        var deadline = _clock.GetUtcNow().UtcDateTime + _options.RequestTimeout;
        var failures = new List<string>();
        for (var attempt = 0; ; attempt++)
        {
            var replica = candidates[attempt];
            var node = replicas[replica];
            var started = _clock.GetTimestamp();
            try
            {
                var answer = await call(node, deadline);
                _preferred[position] = replica;
                return answer;
            }
            catch (RequestFailedException e) when (e.Kind is FailureKind.Unavailable or FailureKind.DeadlineExceeded or FailureKind.Cancelled
                                                   && !cancellationToken.IsCancellationRequested)
            {
                if (e is PeerUnreachableException unreachable)
                    _reachability.Unreachable(unreachable);
                failures.Add($"{node.Name} at {node.GrpcUri}: {(e is PeerUnreachableException ? "unreachable" : e.Kind.ToString())} after " +
                             $"{_clock.GetElapsedTime(started).TotalMilliseconds:F0} ms ({e.Message})");
                if (e.Kind is FailureKind.Unavailable && attempt + 1 < candidates.Count && _clock.GetUtcNow().UtcDateTime < deadline)
                    continue;
                throw new RequestFailedException(e.Kind, $"position {position} did not answer: {string.Join("; ", failures)}", e);
            }
        }
    }
}

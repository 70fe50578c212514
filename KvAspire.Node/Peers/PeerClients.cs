using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Groups;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Peers;

/// <summary>
/// Owns the gRPC channels to the other nodes, one each, opened once. A forward uses the public API,
/// exactly as a client would, and tells the next node how many hops the request has taken in a header
/// (<see cref="NodeHeaders"/>); every call carries the cluster secret when there is one, and this node's
/// member certificate when the cluster has TLS. This node has a channel to itself too: a move's steps go
/// to whichever node leads a position, this one included.
/// </summary>
public sealed class PeerClients : IDisposable
{
    private readonly FrozenDictionary<string, GrpcChannel> _channels;
    private readonly FrozenDictionary<string, CallInvoker> _invokers;
    private readonly TimeProvider _clock;

    public PeerClients(ClusterTopology topology, PeerAuthentication authentication, MemberTls tls, NodeOptions options, TimeProvider clock)
    {
        _clock = clock;
        _channels = topology.Nodes.ToFrozenDictionary(n => n.Name, n =>
            GrpcChannel.ForAddress(n.GrpcUri, new GrpcChannelOptions
            {
                // Over TLS, the server must prove to be the node meant.
                HttpHandler = tls.Secure(new SocketsHttpHandler
                {
                    ConnectTimeout = options.PeerConnectTimeout,
                    KeepAlivePingDelay = options.PeerKeepAlivePingDelay,
                    KeepAlivePingTimeout = options.PeerKeepAlivePingTimeout,
                    KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                    EnableMultipleHttp2Connections = true,
                }, member => member == n.Name),
                MaxReceiveMessageSize = null,
                MaxSendMessageSize = null,
                InitialReconnectBackoff = options.FirstPeerReconnectBackoff,
                MaxReconnectBackoff = options.MaxPeerReconnectBackoff,
            }));
        _invokers = _channels.ToFrozenDictionary(c => c.Key, c => authentication.Sign(c.Value));
    }

    /// <summary>
    /// Returns once <paramref name="node"/> has answered a health check, whatever it says: the link works
    /// (an open connection alone proves nothing while packets are dropped).
    /// </summary>
    public async Task PingAsync(NodeInfo node, TimeSpan timeout)
    {
        using var call = new Health.HealthClient(_invokers[node.Name]).CheckAsync(new HealthCheckRequest(), deadline: _clock.GetUtcNow().UtcDateTime + timeout);
        await call;
    }

    /// <summary>
    /// Sends <paramref name="operation"/>, routed with ring epoch <paramref name="epoch"/>, to
    /// <paramref name="node"/>; the answer's hops include this forward. Its map's answers come back as
    /// answers, successes or not.
    /// </summary>
    /// <exception cref="PeerUnreachableException">The call never reached the node, or its connection died.</exception>
    /// <exception cref="StaleRouteException">The node has a newer layout: it did nothing, and sent its layout.</exception>
    /// <exception cref="RequestFailedException">The node answered a failure (unavailable, a deadline passed, …).</exception>
    public async Task<Answer> SendAsync(NodeInfo node, KvOperation operation, int hopsSoFar, long epoch, DateTime deadline, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await KeyValueCalls.SendAsync(_invokers[node.Name], operation,
                new CallOptions(new Metadata { { NodeHeaders.Hops, NodeHeaders.Text(hopsSoFar + 1) }, StaleRoute.Header(epoch) }, deadline, cancellationToken));
            return answer with { Hops = answer.Hops + 1 };
        }
        catch (RpcException e) when (StaleRoute.LayoutOf(e) is { } newer)
        {
            throw new StaleRouteException(newer, $"{node.Name}: {e.Status.Detail}");
        }
        catch (RpcException e) when (PeerStatus.AsResult(e.StatusCode, e.Status.Detail) is { } result)
        {
            return new Answer(result, hopsSoFar + 1, LeaderHint.Of(e.Trailers));
        }
        catch (RpcException e)
        {
            throw Failure(node, e);
        }
    }

    /// <summary>
    /// Hands <paramref name="writes"/> to <paramref name="leader"/>, the leader of this node's own position
    /// (not a ring hop): one result per write, in their order.
    /// </summary>
    /// <exception cref="RequestFailedException">The leader could not be reached, did not answer in time, or answered a failure.</exception>
    public async Task<IReadOnlyList<HandedWriteResult>> HandOffWritesAsync(NodeInfo leader, HandOffWritesRequest writes, DateTime deadline)
    {
        var reply = await CallAsync(leader, replica => replica.HandOffWritesAsync(writes, deadline: deadline));
        return reply.Results.Count == writes.Writes.Count
            ? reply.Results
            : throw new RequestFailedException(FailureKind.Internal,
                $"{leader.Name} answered {reply.Results.Count} results for {writes.Writes.Count} writes handed to it");
    }

    /// <summary>Asks <paramref name="node"/>, a replica of the request's position, for that position's part of a list.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, or answered a failure.</exception>
    public Task<ListPositionReply> ListPositionAsync(NodeInfo node, ListPositionRequest request, DateTime deadline, CancellationToken cancellationToken) =>
        CallAsync(node, replica => replica.ListPositionAsync(request, deadline: deadline, cancellationToken: cancellationToken));

    /// <summary>
    /// The events of the request's position from <paramref name="node"/>, a replica of it, until the watcher
    /// stops (cancellation) or the stream fails.
    /// </summary>
    /// <exception cref="EventsCompactedException">The node no longer keeps the events after the request's start.</exception>
    /// <exception cref="RequestFailedException">The node could not be reached, its stream broke or ended, or it answered a failure.</exception>
    public async IAsyncEnumerable<WatchBatch> WatchPositionAsync(NodeInfo node, WatchPositionRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = new Replica.ReplicaClient(_invokers[node.Name]).WatchPosition(request, cancellationToken: cancellationToken);
        while (true)
        {
            try
            {
                if (!await call.ResponseStream.MoveNext(cancellationToken))
                    break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.OutOfRange && WatchMessages.Compacted(e.Trailers) is { } compacted)
            {
                throw new EventsCompactedException(compacted.Position, compacted.Floor, request.Start);
            }
            catch (RpcException e)
            {
                throw Failure(node, e);
            }
            yield return WatchMessages.ToBatch(call.ResponseStream.Current);
        }
        throw RequestFailedException.Unavailable($"{node.Name} ended its stream of position {request.Position}'s events");
    }

    /// <summary>Asks <paramref name="node"/>, a replica of <paramref name="position"/>, for its position's revision at a linearizable point.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, or answered a failure.</exception>
    public async Task<long> ReadRevisionAsync(NodeInfo node, int position, DateTime deadline, CancellationToken cancellationToken) =>
        (await CallAsync(node, replica => replica.ReadRevisionAsync(new ReadRevisionRequest { Position = position }, deadline: deadline,
            cancellationToken: cancellationToken))).Revision;

    /// <summary>The layout of the ring <paramref name="node"/> routes with.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, or answered a layout that is not a ring.</exception>
    public async Task<RingLayout> GetLayoutAsync(NodeInfo node, DateTime deadline, CancellationToken cancellationToken)
    {
        try
        {
            using var call = new ClusterInfo.ClusterInfoClient(_invokers[node.Name]).GetLayoutAsync(new GetLayoutRequest(), deadline: deadline,
                cancellationToken: cancellationToken);
            return RingLayout.FromMessage(await call);
        }
        catch (RpcException e)
        {
            throw Failure(node, e);
        }
        catch (FormatException e)
        {
            throw new RequestFailedException(FailureKind.Internal, $"{node.Name} answered a layout that is not a ring: {e.Message}", e);
        }
    }

    /// <summary>Asks <paramref name="leader"/>, the leader of this node's own position, for a read index.</summary>
    /// <exception cref="RequestFailedException">The leader could not be reached, did not answer in time, or no longer leads.</exception>
    public async Task<long> ReadIndexAsync(NodeInfo leader, DateTime deadline) =>
        (await CallAsync(leader, replica => replica.ReadIndexAsync(new ReadIndexRequest(), deadline: deadline))).Index;

    /// <summary>Asks <paramref name="node"/>, which should lead the request's position, to commit a move's claim (and drop what lies outside it).</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, does not lead, or refused.</exception>
    public Task<ClaimRangeReply> ClaimRangeAsync(NodeInfo node, ClaimRangeRequest request, DateTime deadline, CancellationToken cancellationToken) =>
        CallAsync(node, replica => replica.ClaimRangeAsync(request, deadline: deadline, cancellationToken: cancellationToken));

    /// <summary>Asks <paramref name="node"/>, which should lead the giver of a move, for the steps taken since the request's.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, or does not lead.</exception>
    public Task<MoveStatusReply> MoveStatusAsync(NodeInfo node, MoveStatusRequest request, DateTime deadline, CancellationToken cancellationToken) =>
        CallAsync(node, replica => replica.MoveStatusAsync(request, deadline: deadline, cancellationToken: cancellationToken));

    /// <summary>Asks <paramref name="node"/>, which should lead the request's position, to commit one part of a move's copy.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, does not lead, or refused.</exception>
    public Task<InstallRangeReply> InstallRangeAsync(NodeInfo node, InstallRangeRequest request, DateTime deadline, CancellationToken cancellationToken) =>
        CallAsync(node, replica => replica.InstallRangeAsync(request, deadline: deadline, cancellationToken: cancellationToken));

    /// <summary>Gives <paramref name="node"/> a newer layout; answers the epoch it routes with after.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, did not answer in time, or refused the layout.</exception>
    public async Task<long> AdoptLayoutAsync(NodeInfo node, RingLayout layout, DateTime deadline, CancellationToken cancellationToken) =>
        (await CallAsync(node, replica => replica.AdoptLayoutAsync(layout.ToMessage(), deadline: deadline, cancellationToken: cancellationToken))).Epoch;

    /// <summary>The parts of a move's copy from <paramref name="node"/>, a replica of the giver, until the last.</summary>
    /// <exception cref="RequestFailedException">The node could not be reached, its stream broke, or it refused (the range is not fenced, or holds leases).</exception>
    public async IAsyncEnumerable<RangePart> ExportRangeAsync(NodeInfo node, ExportRangeRequest request, DateTime deadline,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = new Replica.ReplicaClient(_invokers[node.Name]).ExportRange(request, deadline: deadline, cancellationToken: cancellationToken);
        while (true)
        {
            try
            {
                if (!await call.ResponseStream.MoveNext(cancellationToken))
                    yield break;
            }
            catch (RpcException e)
            {
                throw Failure(node, e);
            }
            yield return call.ResponseStream.Current;
        }
    }

    /// <summary>A unary call of the Replica service to <paramref name="node"/>, its failure in the node's terms.</summary>
    private async Task<TReply> CallAsync<TReply>(NodeInfo node, Func<Replica.ReplicaClient, AsyncUnaryCall<TReply>> start)
    {
        try
        {
            using var call = start(new Replica.ReplicaClient(_invokers[node.Name]));
            return await call;
        }
        catch (RpcException e)
        {
            throw Failure(node, e);
        }
    }

    /// <summary>A failed call to <paramref name="node"/> in the node's terms, a transport failure as UNAVAILABLE.</summary>
    private static RequestFailedException Failure(NodeInfo node, RpcException e)
    {
        var detail = string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail;
        if (TransportFailure.IsUnreachable(e))
            return new PeerUnreachableException(node, detail, e);
        return PeerStatus.AsFailure(TransportFailure.IsUnavailable(e) ? StatusCode.Unavailable : e.StatusCode, detail, e);
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
            channel.Dispose();
    }
}

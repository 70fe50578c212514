using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Groups;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Driver.Transport;

/// <summary>
/// The client's link to the cluster: one gRPC channel per known node, opened once and kept for the whole
/// session. Thread-safe: every call of a process may share one. A request goes to the node that answered
/// last; when a node is unavailable the next one is tried, with the same request id, so a retried write is
/// applied at most once; when all are, the round is repeated after a growing pause, for a while. When there
/// are other nodes to try, a node that does not answer within the attempt timeout (frozen, or cut off)
/// counts as unavailable; the deadline it was given stops its own work for the call too. The numbers are
/// the client's retry policy, in <see cref="KvClientOptions"/>. With leader hints, the connection asks
/// the nodes for the ring's layout while it is not known, in the background: requests meanwhile take the
/// usual way (a node forwards them). Once it is known, each request carries its epoch: a node with a newer
/// layout refuses the request with that layout, which the connection takes before routing the request again.
/// </summary>
internal sealed class KvConnection : IDisposable
{
    private readonly string[] _addresses;
    private readonly GrpcChannel[] _channels;
    private readonly KvClientOptions _policy;
    private readonly LeaderHints? _leaders;
    private readonly string _clientId = Guid.NewGuid().ToString("N");
    private long _sequence;
    private int _preferred;
    private int _learningLayout;

    /// <param name="nodes">The nodes to call (host:port or URLs).</param>
    /// <param name="policy">The deadline of each request, the retry policy and the cluster's CA; its own Nodes are not used.</param>
    /// <param name="channels">How the nodes are reached (<see cref="NodeChannels.For"/> the policy).</param>
    /// <param name="leaders">Leader hints shared by the process's connections; null sends every request to the nodes given.</param>
    public KvConnection(IReadOnlyList<string> nodes, KvClientOptions policy, NodeChannels channels, LeaderHints? leaders = null)
    {
        _addresses = nodes.Select(channels.Address).ToArray();
        _channels = _addresses.Select(channels.Open).ToArray();
        _policy = policy;
        _leaders = leaders;
    }

    /// <summary>A connection without leader hints, reaching the nodes as <paramref name="policy"/> says (over TLS when it names a CA).</summary>
    public KvConnection(IReadOnlyList<string> nodes, KvClientOptions policy)
        : this(nodes, policy, NodeChannels.For(policy))
    {
    }

    /// <summary>A connection with the default retry policy and the request deadline <paramref name="timeout"/>.</summary>
    public KvConnection(IReadOnlyList<string> nodes, TimeSpan timeout)
        : this(nodes, new KvClientOptions { RequestTimeout = timeout })
    {
    }

    public IReadOnlyList<string> Addresses => _addresses;

    /// <summary>The deadline of each request.</summary>
    public TimeSpan Timeout => _policy.RequestTimeout;

    /// <summary>Sends <paramref name="operation"/>; a write gets this connection's next request id, kept across its retries.</summary>
    public async Task<Reply> ExecuteAsync(KvOperation operation, CancellationToken cancellationToken = default)
    {
        var request = operation.IsWrite
            ? operation with { RequestId = new ClientRequestId(_clientId, (ulong)Interlocked.Increment(ref _sequence)) }
            : operation;

        var deadline = DateTime.UtcNow + _policy.RequestTimeout;
        if (_leaders is { Layout: null } && Interlocked.Exchange(ref _learningLayout, 1) == 0)
            _ = LearnLayoutAsync(_leaders);
        while (true)
        {
            var reply = await RouteAsync(request, deadline, cancellationToken);
            if (reply.NewerLayout is not { } newer)
                return reply;
            // A node routes with a newer layout than the request was: it did nothing with it. Take its
            // layout and route the request again, with the same request id.
            _leaders?.Adopt(newer);
            if (_leaders is null || DateTime.UtcNow >= deadline)
                return reply with { Status = StatusCode.Unavailable, Error = $"the ring's layout changed under the request: {reply.Error}" };
        }
    }

    private async Task<Reply> RouteAsync(KvOperation request, DateTime deadline, CancellationToken cancellationToken)
    {
        // The epoch of the layout the request is routed with, so that a node with a newer one refuses it.
        var routing = _leaders?.Layout is { } layout ? new Metadata { StaleRoute.Header(layout.Epoch) } : null;
        // A lease's calls go to its position (its id says which), any other call to its key's.
        var position = _leaders is null ? null : LeaseMessages.RoutedByLease(request) ? LeaseIds.Position(request.Lease) : _leaders.PositionOf(request.Key);
        if (position is { } owner && _leaders!.LeaderOf(owner) is { } leader)
        {
            var direct = await SendAsync(leader.Channel, leader.Url, request, routing, deadline, cancellationToken);
            if (direct.Status != StatusCode.Unavailable)
                return Learned(owner, direct);
            _leaders.Forget(owner, leader.Address);
        }

        // Every node unavailable is often a moment's state (a node restarting, a leader being elected,
        // which the nodes themselves already wait out): go round again after a growing pause, for a while.
        var started = Stopwatch.StartNew();
        var pause = _policy.FirstRetryPause;
        while (true)
        {
            Reply? last = null;
            var first = Volatile.Read(ref _preferred);
            for (var attempt = 0; attempt < _addresses.Length; attempt++)
            {
                var index = (first + attempt) % _addresses.Length;
                last = await SendAsync(_channels[index], _addresses[index], request, routing, deadline, cancellationToken);
                if (last.Status != StatusCode.Unavailable)
                {
                    Volatile.Write(ref _preferred, index);
                    return position is { } known ? Learned(known, last) : last;
                }
                if (DateTime.UtcNow >= deadline)
                    return last;
            }
            if (started.Elapsed + pause >= _policy.RetryWindow || DateTime.UtcNow + pause >= deadline)
                return last!;
            await Task.Delay(pause, cancellationToken);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, _policy.MaxRetryPause.Ticks));
        }
    }

    /// <summary>The node for attempt <paramref name="attempt"/> of a stream: the one that answered last, then the others in turn.</summary>
    public (GrpcChannel Channel, string Address) NodeFor(int attempt)
    {
        var index = (Volatile.Read(ref _preferred) + attempt) % _addresses.Length;
        return (_channels[index], _addresses[index]);
    }

    /// <summary>The retry policy's numbers.</summary>
    public KvClientOptions Policy => _policy;

    /// <summary>Asks the nodes in turn for the ring's layout until one answers; when none does, a later request asks again.</summary>
    private async Task LearnLayoutAsync(LeaderHints leaders)
    {
        try
        {
            foreach (var channel in _channels)
            {
                try
                {
                    using var call = new ClusterInfo.ClusterInfoClient(channel).GetLayoutAsync(new GetLayoutRequest(), deadline: DateTime.UtcNow + _policy.AttemptTimeout);
                    leaders.Adopt(RingLayout.FromMessage(await call));
                    return;
                }
                catch (Exception e) when (e is RpcException or FormatException or ObjectDisposedException)
                {
                    // The next node may answer (or the client is being disposed).
                }
            }
        }
        finally
        {
            Volatile.Write(ref _learningLayout, 0);
        }
    }

    private Reply Learned(int position, Reply reply)
    {
        _leaders!.Learn(position, reply.Leader);
        return reply;
    }

    private async Task<Reply> SendAsync(GrpcChannel channel, string node, KvOperation request, Metadata? headers, DateTime deadline,
        CancellationToken cancellationToken)
    {
        // With one node to ask there is no one else to try: its own answer, however late, says most.
        var attemptDeadline = _addresses.Length > 1 && DateTime.UtcNow + _policy.AttemptTimeout < deadline ? DateTime.UtcNow + _policy.AttemptTimeout : deadline;
        try
        {
            var answer = await KeyValueCalls.SendAsync(channel.CreateCallInvoker(), request,
                new CallOptions(headers, attemptDeadline, cancellationToken));
            return new Reply(StatusCode.OK, Result: answer.Result, Hops: answer.Hops, Node: node, Leader: answer.Leader);
        }
        catch (RpcException failure) when (failure.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(failure.Status.Detail, failure, cancellationToken);
        }
        catch (RpcException failure) when (StaleRoute.LayoutOf(failure) is { } newer)
        {
            return new Reply(failure.StatusCode, Error: failure.Status.Detail, Node: node, NewerLayout: newer);
        }
        catch (RpcException failure) when (failure.StatusCode == StatusCode.DeadlineExceeded && attemptDeadline < deadline)
        {
            return new Reply(StatusCode.Unavailable, Error: $"{node} did not answer within {_policy.AttemptTimeout.TotalSeconds:0.#} s", Node: node);
        }
        catch (RpcException failure)
        {
            var e = TransportFailure.AsUnavailable(failure);
            return new Reply(e.StatusCode, Error: string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail,
                Node: node, Leader: LeaderHint.Of(e.Trailers));
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
            channel.Dispose();
    }
}

using Grpc.Core;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The forwarder in process, on a ring of 2 positions × 3 replicas where no peer runs: what it answers
/// without sending anything: a position cut off, a routing loop.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ForwarderTests : IDisposable
{
    private readonly RequestPathParts _node = new(positions: 2);
    private readonly LocalRing _ring;
    private readonly Forwarder _forwarder;

    public ForwarderTests() => (_ring, _forwarder) = (_node.Ring, _node.Forwarder);

    public void Dispose() => _node.Dispose();

    /// <summary>A read of a key that position 1 owns.</summary>
    private PendingRequest ReadOfPosition1(int hopsSoFar = 0)
    {
        var key = Enumerable.Range(0, 1000).Select(i => $"key{i}").First(k => _ring.Locate(k).Owner == 1);
        return new PendingRequest(new KvOperation(OperationKind.Read, key), default, hopsSoFar) { Route = _ring.Locate(key) };
    }

    [Fact]
    public async Task A_position_none_of_whose_replicas_can_be_reached_is_answered_UNAVAILABLE_at_once_naming_it()
    {
        foreach (var replica in _ring.NodesByPosition[1])
            _node.Reachability.Unreachable(replica, new RpcException(new Status(StatusCode.Unavailable, "connection refused")));

        var failure = await Assert.ThrowsAsync<RpcException>(() => _forwarder.ForwardAsync(ReadOfPosition1(), CancellationToken.None));

        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.StartsWith("position 1 is unreachable: none of its replicas (p1r0 at ", failure.Status.Detail);
        Assert.Equal(0, _forwarder.InFlight);
    }

    [Fact]
    public async Task A_request_that_has_taken_as_many_hops_as_the_ring_has_positions_is_a_routing_loop_answered_INTERNAL()
    {
        var failure = await Assert.ThrowsAsync<RpcException>(() => _forwarder.ForwardAsync(ReadOfPosition1(hopsSoFar: 2), CancellationToken.None));

        Assert.Equal(StatusCode.Internal, failure.StatusCode);
        Assert.Equal("routing loop: 2 hops for a ring of 2 positions", failure.Status.Detail);
    }
}
